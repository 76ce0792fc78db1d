import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateController } from '../../src/certs/index.ts';
import { conditionOf } from '../../src/api/index.ts';
import { openStore } from '../../src/store/index.ts';
import { applyArticle, openssl, pkiCreate, tempDir, writeSecretFiles } from './helpers.ts';

const CERT = 'linkerd-identity-issuer';

/** What the store shows of an issuance in flight, cheapest first. */
type Stage = 'next-key' | 'request' | 'secret';

test('killing the controller during an issuance leaves a consistent store and exactly one new revision', async (t) => {
  const dir = tempDir(t);
  pkiCreate(dir, ['root.linkerd.cluster.local', 'ca.crt', 'ca.key', '--profile', 'root-ca', '--no-password', '--insecure']);
  let caughtMidway = 0;
  // Kill at each stage the store can show; each run starts from a fresh store.
  for (const stage of ['next-key', 'request', 'secret'] as Stage[]) {
    const stateDir = join(dir, `state-${stage}`);
    const store = openStore({ stateDir });
    t.after(() => store.close());
    await applyArticle(store, dir);

    const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'run-controller.ts'), stateDir], { stdio: 'ignore' });
    t.after(() => child.kill('SIGKILL'));
    const exited = once(child, 'exit');
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.ok(Date.now() < deadline, `the controller never reached stage ${stage}`);
      if (await reached(store, stage)) break;
      await new Promise((r) => setImmediate(r));
    }
    child.kill('SIGKILL');
    await exited;
    const cert = await store.get('Certificate', CERT, 'linkerd');
    if (cert?.status?.revision === undefined) caughtMidway++;

    // A restarted controller finishes the job from what the store holds.
    await new CertificateController(store).reconcileAll();
    const after = await store.get('Certificate', CERT, 'linkerd');
    assert.equal(conditionOf(after!, 'Ready')?.status, 'True', `${stage}: ${JSON.stringify(after?.status)}`);
    assert.equal(after!.status?.revision, 1, stage);
    const requests = (await store.list('CertificateRequest', { namespace: 'linkerd' })).items.map((r) => r.metadata.name);
    assert.deepEqual(requests, [`${CERT}-1`], stage);
    assert.equal(await store.get('Secret', `${CERT}-next-private-key`, 'linkerd'), undefined, `${stage}: the in-flight key is cleaned up`);
    const out = join(dir, `out-${stage}`);
    mkdirSync(out);
    const files = writeSecretFiles((await store.get('Secret', CERT, 'linkerd'))!, out);
    assert.match(openssl(['verify', '-CAfile', files['ca.crt']!, files['tls.crt']!]), /: OK/);
    // The key in the Secret is the key of its certificate.
    const keyPub = openssl(['pkey', '-in', files['tls.key']!, '-pubout']);
    const crtPub = openssl(['x509', '-in', files['tls.crt']!, '-noout', '-pubkey']);
    assert.equal(keyPub, crtPub, stage);
  }
  assert.ok(caughtMidway >= 1, 'at least one kill landed before the issuance completed');
});

async function reached(store: ReturnType<typeof openStore>, stage: Stage): Promise<boolean> {
  switch (stage) {
    case 'next-key':
      return (await store.get('Secret', `${CERT}-next-private-key`, 'linkerd')) !== undefined;
    case 'request':
      return (await store.get('CertificateRequest', `${CERT}-1`, 'linkerd')) !== undefined;
    case 'secret':
      return (await store.get('Secret', CERT, 'linkerd')) !== undefined;
  }
}

test('a next private key left behind by a controller stopped after recording the issuance is removed by the next pass', async (t) => {
  const dir = tempDir(t);
  pkiCreate(dir, ['root.linkerd.cluster.local', 'ca.crt', 'ca.key', '--profile', 'root-ca', '--no-password', '--insecure']);
  const store = openStore({ stateDir: join(dir, 'state') });
  t.after(() => store.close());
  await applyArticle(store, dir);
  const controller = new CertificateController(store);
  await controller.reconcileAll();
  const issued = await store.get('Certificate', CERT, 'linkerd');
  assert.equal(issued!.status?.revision, 1);
  // The state a kill between the status write and the key's deletion leaves: issued, key still there.
  await store.apply({
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: `${CERT}-next-private-key`, namespace: 'linkerd', labels: { 'cert-manager.io/next-private-key': 'true' } },
    data: { 'tls.key': Buffer.from('stale').toString('base64') },
  });
  await controller.reconcileAll();
  assert.equal(await store.get('Secret', `${CERT}-next-private-key`, 'linkerd'), undefined);
  assert.equal((await store.get('Certificate', CERT, 'linkerd'))!.status?.revision, 1, 'and nothing was re-issued');
});
