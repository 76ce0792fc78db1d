/**
 * Golden files for what `weft get` and `weft describe` print, from a store the
 * certificate controller filled at a fixed time. After a deliberate change of
 * output, refresh them with `WEFT_UPDATE_GOLDEN=1 node --test test/store/cli-golden.test.ts`
 * and review the diff.
 *
 * The CLI reads the real clock; the store's clock is fixed in the future, so every
 * age (AGE, LAST SEEN, event ages) is "0s" and the output is the same on every run.
 * UIDs are random: they are replaced by `<uid>` before comparing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { ResourceInput } from '../../src/api/index.ts';
import { CertificateController } from '../../src/certs/index.ts';
import { exportPrivateKey, generateKeyPair, issueCertificate } from '../../src/pki/index.ts';
import { openStore } from '../../src/store/index.ts';
import { tempStateDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const WEFT = join(ROOT, 'bin', 'weft.js');
const ARTICLE = join(ROOT, 'test', 'api', 'fixtures', 'article.yaml');
const GOLDEN = join(import.meta.dirname, 'golden');
const UPDATE = process.env.WEFT_UPDATE_GOLDEN === '1';
// Later than any real clock these tests run under, and still a UTCTime in certificates.
const AT = new Date('2040-01-01T00:00:00Z');
const H = 3_600_000;

function golden(name: string, actual: string): void {
  const path = join(GOLDEN, name);
  if (UPDATE) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `output differs from ${path} (WEFT_UPDATE_GOLDEN=1 to refresh)`);
}

/** The article's trust anchor, Issuer and identity issuer Certificate, issued; plus an Issuer whose Secret is missing. */
async function articleState(t: TestContext): Promise<string> {
  const state = join(tempStateDir(t), 'state');
  const clock = (): Date => new Date(AT);
  const store = openStore({ stateDir: state, clock });
  try {
    const keys = await generateKeyPair();
    const anchor = await issueCertificate({
      subject: 'root.linkerd.cluster.local', publicKey: keys.publicKey, issuer: { selfSigned: keys.privateKey },
      notBefore: new Date(AT.getTime() - H), notAfter: new Date(AT.getTime() + 365 * 24 * H),
      isCA: true, pathLen: 1, keyUsage: ['keyCertSign', 'cRLSign'],
    });
    await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'linkerd' } });
    await store.apply({
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'linkerd-trust-anchor', namespace: 'linkerd' }, type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(anchor.pem).toString('base64'),
        'tls.key': Buffer.from(await exportPrivateKey(keys.privateKey)).toString('base64'),
      },
    });
    for (const doc of parseAllDocuments(readFileSync(ARTICLE, 'utf8'))) {
      const object = doc.toJS() as ResourceInput | null;
      if (object !== null) await store.apply(object);
    }
    await store.apply({
      apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'missing-secret', namespace: 'default' },
      spec: { ca: { secretName: 'nowhere' } },
    });
    const controller = new CertificateController(store, { clock });
    await controller.reconcileAll();
    await controller.reconcileAll();
  } finally {
    store.close();
  }
  return state;
}

function weft(state: string, args: string[]): string {
  const r = spawnSync(process.execPath, [WEFT, ...args, '--state-dir', state], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uid>');
}

test('weft get, get -o wide and describe print the certificate controller\'s work as the golden files hold', async (t) => {
  const state = await articleState(t);
  golden('get-certificates-all.txt', weft(state, ['get', 'certificates', '-A']));
  golden('get-issuers-all-wide.txt', weft(state, ['get', 'issuers', '-A', '-o', 'wide']));
  golden('describe-certificate.txt', weft(state, ['describe', 'certificate', 'linkerd-identity-issuer', '-n', 'linkerd']));
});
