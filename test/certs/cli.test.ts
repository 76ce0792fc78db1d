import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CertificateController } from '../../src/certs/index.ts';
import { createCsr, generateKeyPair } from '../../src/pki/index.ts';
import { openStore } from '../../src/store/index.ts';
import { ROOT, applyArticle, pkiCreate, tempDir } from './helpers.ts';

function weft(stateDir: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'weft.js'), ...args, '--state-dir', stateDir], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('weft certs status, renew and inspect show and drive what the controller does', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  pkiCreate(dir, ['root.linkerd.cluster.local', 'ca.crt', 'ca.key', '--profile', 'root-ca', '--no-password', '--insecure']);
  const store = openStore({ stateDir });
  t.after(() => store.close());
  await applyArticle(store, dir);
  const controller = new CertificateController(store);
  await controller.reconcileAll();

  const status = weft(stateDir, ['certs', 'status', 'linkerd-identity-issuer', '-n', 'linkerd']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Ready: True, Reason: Ready/);
  assert.match(status.stdout, /Renewal Time: \S+ \(in 22h59m\)|Renewal Time: \S+ \(in 23h0m\)/);
  assert.match(status.stdout, /Name: linkerd-identity-issuer-1\n {2}Ready: True, Reason: Issued/);
  assert.match(status.stdout, /Normal\tIssued\tThe certificate has been successfully issued/);

  const renew = weft(stateDir, ['certs', 'renew', 'linkerd-identity-issuer', '-n', 'linkerd']);
  assert.equal(renew.code, 0, renew.stderr);
  assert.match(renew.stdout, /Manually triggered issuance of Certificate linkerd\/linkerd-identity-issuer/);
  await controller.reconcileAll();
  assert.equal((await store.get('Certificate', 'linkerd-identity-issuer', 'linkerd'))!.status?.revision, 2);

  const inspect = weft(stateDir, ['certs', 'inspect', 'secret', 'linkerd-identity-issuer', '-n', 'linkerd']);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /== tls\.crt \[0\]/);
  assert.match(inspect.stdout, /identity\.linkerd\.cluster\.local/);
  assert.match(inspect.stdout, /== ca\.crt \[0\]/);

  const missing = weft(stateDir, ['certs', 'status', 'nope', '-n', 'linkerd']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /certificates\.cert-manager\.io "nope" not found/);
  const both = weft(stateDir, ['certs', 'renew', 'x', '--all']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /Give a Certificate name or --all/);
});

test('weft certs status shows the CertificateRequest of the latest revision, also past revision 9', async (t) => {
  // Regression: the last request by name was shown, and "web-10" sorts before "web-9".
  const stateDir = join(tempDir(t), 'state');
  const store = openStore({ stateDir });
  t.after(() => store.close());
  await store.apply({
    apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'web', namespace: 'default' },
    spec: { secretName: 'web', issuerRef: { name: 'ca' }, dnsNames: ['web.example'], revisionHistoryLimit: 2 },
  });
  const csr = await createCsr({ subject: 'web.example', keyPair: await generateKeyPair() });
  for (const revision of [9, 10]) {
    await store.apply({
      apiVersion: 'cert-manager.io/v1', kind: 'CertificateRequest',
      metadata: {
        name: `web-${revision}`, namespace: 'default',
        annotations: { 'cert-manager.io/certificate-name': 'web', 'cert-manager.io/certificate-revision': String(revision) },
      },
      spec: { request: Buffer.from(csr.pem).toString('base64'), issuerRef: { name: 'ca' } },
    });
  }
  const status = weft(stateDir, ['certs', 'status', 'web']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /CertificateRequest:\n {2}Name: web-10\n/);
});
