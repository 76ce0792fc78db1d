/**
 * The real step CLI as an independent judge of step compatibility: step verifies
 * and inspects what weft makes, step signs with weft's (encrypted PKCS#8) CA key,
 * weft signs with step's CA key, and both print the same fingerprint.
 * .ci/setup-extra installs step at "$(go env GOPATH)/bin/step".
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssl, tempDir, weft, weftOk, type Ran } from './helpers.ts';

let STEP = '';

before(() => {
  const gopath = execFileSync('go', ['env', 'GOPATH'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin` },
  }).trim();
  STEP = join(gopath, 'bin', 'step');
  if (!existsSync(STEP)) throw new Error(`Install the step CLI first (.ci/setup-extra): ${STEP} is missing`);
});

function step(cwd: string, args: readonly string[]): Ran {
  const r = spawnSync(STEP, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function stepOk(cwd: string, args: readonly string[]): Ran {
  const r = step(cwd, args);
  assert.equal(r.status, 0, `step ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r;
}

const NO_PW = ['--no-password', '--insecure'];

test('step verifies and inspects a trust anchor, issuer and leaf made by weft', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 'issuer password\n');
  weftOk(dir, ['pki', 'create', 'root.linkerd.cluster.local', 'ca.crt', 'ca.key', '--profile', 'root-ca', ...NO_PW, '--not-after=87600h']);
  weftOk(dir, ['pki', 'create', 'identity.linkerd.cluster.local', 'issuer.crt', 'issuer.key', '--profile', 'intermediate-ca',
    '--ca', 'ca.crt', '--ca-key', 'ca.key', '--not-after', '8760h', '--password-file', 'pw']);
  weftOk(dir, ['pki', 'create', 'web.emojivoto.svc', 'web.crt', 'web.key', '--ca', 'issuer.crt', '--ca-key', 'issuer.key',
    '--ca-password-file', 'pw', ...NO_PW, '--san', 'web.emojivoto.svc', '--san', 'spiffe://cluster.local/ns/emojivoto/sa/web']);
  const bundle = weftOk(dir, ['pki', 'inspect', '--bundle', '--format', 'json', 'web.crt']).stdout;
  assert.ok(bundle.length > 0);
  execFileSync('sh', ['-c', 'cat web.crt issuer.crt > web-bundle.crt'], { cwd: dir });

  stepOk(dir, ['certificate', 'verify', 'web-bundle.crt', '--roots', 'ca.crt', '--host', 'web.emojivoto.svc']);
  stepOk(dir, ['certificate', 'verify', 'issuer.crt', '--roots', 'ca.crt']);
  const wrongHost = step(dir, ['certificate', 'verify', 'web-bundle.crt', '--roots', 'ca.crt', '--host', 'vote.emojivoto.svc']);
  assert.notEqual(wrongHost.status, 0, 'step refuses a host the leaf does not name, as weft does');

  const root = stepOk(dir, ['certificate', 'inspect', 'ca.crt']).stdout;
  assert.match(root, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
  assert.match(root, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
  assert.match(stepOk(dir, ['certificate', 'inspect', '--short', 'ca.crt']).stdout, /X\.509v3 Root CA Certificate \(ECDSA P-256\)/);
  assert.match(stepOk(dir, ['certificate', 'inspect', '--short', 'issuer.crt']).stdout, /X\.509v3 Intermediate CA Certificate \(ECDSA P-256\)/);
  const leaf = stepOk(dir, ['certificate', 'inspect', 'web.crt']).stdout;
  assert.match(leaf, /Server Authentication, Client Authentication/);
  assert.match(leaf, /DNS:web\.emojivoto\.svc/);
  assert.match(leaf, /URI:spiffe:\/\/cluster\.local\/ns\/emojivoto\/sa\/web/);

  for (const file of ['ca.crt', 'issuer.crt', 'web.crt']) {
    assert.equal(weftOk(dir, ['pki', 'fingerprint', file]).stdout, stepOk(dir, ['certificate', 'fingerprint', file]).stdout);
  }
});

test('step signs with a weft CA key (encrypted PKCS#8), and weft signs with a step CA key', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 'shared secret\n');
  weftOk(dir, ['pki', 'create', 'weft root', 'weft-ca.crt', 'weft-ca.key', '--profile', 'root-ca', '--password-file', 'pw']);
  stepOk(dir, ['certificate', 'create', 'from-step', 'from-step.crt', 'from-step.key', '--ca', 'weft-ca.crt', '--ca-key', 'weft-ca.key',
    '--ca-password-file', 'pw', ...NO_PW]);
  weftOk(dir, ['pki', 'verify', 'from-step.crt', '--roots', 'weft-ca.crt', '--host', 'from-step']);

  // step's own CA with its encrypted key format, used by weft.
  stepOk(dir, ['certificate', 'create', 'step root', 'step-ca.crt', 'step-ca.key', '--profile', 'root-ca', '--password-file', 'pw']);
  weftOk(dir, ['pki', 'create', 'from-weft', 'from-weft.crt', 'from-weft.key', '--ca', 'step-ca.crt', '--ca-key', 'step-ca.key',
    '--ca-password-file', 'pw', ...NO_PW]);
  stepOk(dir, ['certificate', 'verify', 'from-weft.crt', '--roots', 'step-ca.crt', '--host', 'from-weft']);
  assert.equal(openssl(dir, ['verify', '-CAfile', 'step-ca.crt', 'from-weft.crt']).status, 0);

  // And weft refuses step's key with the wrong password, as step would.
  writeFileSync(join(dir, 'wrong'), 'nope\n');
  const refused = weft(dir, ['pki', 'create', 'x', 'x.crt', 'x.key', '--ca', 'step-ca.crt', '--ca-key', 'step-ca.key',
    '--ca-password-file', 'wrong', ...NO_PW]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /does not decrypt the CA key "step-ca\.key"/);
});
