import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { identityName, startIdentityService } from '../../src/identity/index.ts';
import { controlPlane, ManualClock, tempDir } from './helpers.ts';

const WEFT = new URL('../../bin/weft.js', import.meta.url).pathname;

// The identity service runs in this process, so the CLI runs as an async child.
async function weft(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [WEFT, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('weft token create and weft identity certify obtain a certificate as a proxy would; inspect shows the issuer', async (t) => {
  const clock = new ManualClock(Date.now());
  const cp = await controlPlane(clock);
  t.after(() => cp.cleanup());
  const svc = await startIdentityService(cp.store, { addr: '127.0.0.1:0' });
  t.after(() => svc.close());
  const files = tempDir('cli');
  t.after(files.cleanup);
  const web = identityName({ namespace: 'emojivoto', serviceAccount: 'web' });

  const token = await weft(['token', 'create', '--state-dir', cp.dir, '-n', 'emojivoto', '--service-account', 'web', '--ttl', '10m']);
  assert.equal(token.code, 0, token.stderr);
  writeFileSync(join(files.dir, 'token'), token.stdout);
  writeFileSync(join(files.dir, 'anchors.pem'), cp.anchor.certificate.pem);

  const out = join(files.dir, 'out');
  const certify = await weft(['identity', 'certify', '--identity', web, '--token', join(files.dir, 'token'),
    '--addr', svc.address, '--anchors', join(files.dir, 'anchors.pem'), '--out', out]);
  assert.equal(certify.code, 0, certify.stderr);
  assert.match(certify.stdout, /Certificate for "web\.emojivoto\.serviceaccount\.identity\.weft\.cluster\.local" valid until/);
  assert.match(readFileSync(join(out, 'key.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
  const verify = await promisify(execFile)('openssl', ['verify', '-CAfile', join(out, 'ca.pem'), '-untrusted', join(out, 'chain.pem'), join(out, 'crt.pem')]);
  assert.match(verify.stdout, /OK/);

  // A token for another ServiceAccount: one line saying why, exit code 2.
  const voting = await weft(['token', 'create', '--state-dir', cp.dir, '-n', 'emojivoto', '--service-account', 'voting']);
  writeFileSync(join(files.dir, 'token'), voting.stdout);
  const refused = await weft(['identity', 'certify', '--identity', web, '--token', join(files.dir, 'token'),
    '--addr', svc.address, '--anchors', join(files.dir, 'anchors.pem'), '--out', out]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^error: Check the token, identity and address: Certify failed with PERMISSION_DENIED: requested identity/);

  const missing = await weft(['token', 'create', '--state-dir', cp.dir, '-n', 'emojivoto', '--service-account', 'nobody']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Create ServiceAccount "nobody" in namespace "emojivoto" first/);

  const inspect = await weft(['identity', 'inspect', '--state-dir', cp.dir]);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /Trust domain: +cluster\.local/);
  assert.match(inspect.stdout, new RegExp(`serial ${cp.issuer.certificate.serialNumber}`));
  assert.match(inspect.stdout, /status: valid/);
});
