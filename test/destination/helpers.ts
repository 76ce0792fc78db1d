/**
 * Fixtures for the destination service's integration tests: a bootstrapped store
 * in a temporary directory with a real issuer, workload certificates signed by it
 * (identity's issueLeaf), and bounded polls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportPrivateKey, generateKeyPair, importPrivateKey, issueCertificate, parseCertificates, type Certificate, type CryptoKey,
} from '../../src/pki/index.ts';
import { openStore, type ResourceStore } from '../../src/store/index.ts';
import {
  bootstrapControlPlane, issueLeaf, IssuerSource, systemClock, TRUST_ANCHOR_SECRET, type IdentityConfig, type Issuer,
} from '../../src/identity/index.ts';
import type { ClientTlsMaterial } from '../../src/destination/index.ts';

const HOUR = 3_600_000;

/** Polls `cond` every 10 ms until it holds; fails after `timeoutMs` (default 10 s) naming `what`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A CA: certificate and key. */
export interface Ca {
  readonly certificate: Certificate;
  readonly privateKey: CryptoKey;
}

/** A self-signed root, unrelated to the mesh's anchor. */
export async function otherRoot(): Promise<Ca> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const certificate = await issueCertificate({
    subject: 'root.other.cluster.local', publicKey: keys.publicKey, issuer: { selfSigned: keys.privateKey },
    notBefore: new Date(now - HOUR), notAfter: new Date(now + 365 * 24 * HOUR), isCA: true, pathLen: 1, keyUsage: ['keyCertSign', 'cRLSign'],
  });
  return { certificate, privateKey: keys.privateKey };
}

/** An intermediate under `parent`, as the identity issuer is. */
export async function intermediate(parent: Ca): Promise<Ca> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const certificate = await issueCertificate({
    subject: 'identity.weft.cluster.local', publicKey: keys.publicKey, issuer: parent,
    notBefore: new Date(now - HOUR), notAfter: new Date(now + 48 * HOUR), isCA: true, pathLen: 0, keyUsage: ['keyCertSign', 'cRLSign'],
  });
  return { certificate, privateKey: keys.privateKey };
}

/** A bootstrapped store with an issuer Secret, its IssuerSource, and the emojivoto namespace. */
export interface Fixture {
  readonly store: ResourceStore;
  readonly config: IdentityConfig;
  readonly anchor: Ca;
  readonly issuers: IssuerSource;
  /** A workload's TLS material, signed by the mesh's issuer. */
  workload(namespace: string, serviceAccount: string): Promise<ClientTlsMaterial>;
  cleanup(): Promise<void>;
}

/** Bootstraps a fresh store in a temporary directory named after `prefix`. */
export async function fixture(prefix: string): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), `weft-destination-${prefix}-`));
  const store = openStore({ stateDir: dir });
  const boot = await bootstrapControlPlane(store);
  const secret = await store.get('Secret', TRUST_ANCHOR_SECRET, boot.config.controlPlaneNamespace);
  const pem = (k: string): string => Buffer.from(secret?.data?.[k] ?? '', 'base64').toString('utf8');
  const anchor: Ca = {
    certificate: parseCertificates(pem('tls.crt'))[0] as Certificate,
    privateKey: (await importPrivateKey(pem('tls.key'))).privateKey,
  };
  const issuer = await intermediate(anchor);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  await store.apply({
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls',
    metadata: { name: boot.config.issuerSecretName, namespace: boot.config.controlPlaneNamespace },
    data: { 'tls.crt': b64(issuer.certificate.pem), 'tls.key': b64(await exportPrivateKey(issuer.privateKey)), 'ca.crt': b64(anchor.certificate.pem) },
  });
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'emojivoto' } });
  const issuers = new IssuerSource({ store, config: boot.config, clock: systemClock });
  await issuers.start();
  const current = (): Issuer => {
    const i = issuers.current(new Date());
    if (i === undefined) throw new Error('the fixture has no issuer');
    return i;
  };
  return {
    store, config: boot.config, anchor, issuers,
    async workload(namespace, serviceAccount) {
      const keys = await generateKeyPair();
      const i = current();
      const leaf = await issueLeaf(i, {
        serviceAccount: { namespace, serviceAccount }, domain: boot.config, publicKey: keys.publicKey,
        now: new Date(), lifetimeMs: 24 * HOUR, clockSkewMs: 20_000,
      });
      return {
        keyPem: await exportPrivateKey(keys.privateKey),
        certChainPem: [leaf, ...i.chain].map((c) => c.pem).join(''),
        trustAnchorsPem: anchor.certificate.pem,
      };
    },
    async cleanup() {
      await issuers.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A workload certificate for `web` signed by an issuer under `root` (not the mesh's anchor). */
export async function foreignWorkload(root: Ca, config: IdentityConfig, trustAnchorsPem: string): Promise<ClientTlsMaterial> {
  const issuer = await intermediate(root);
  const keys = await generateKeyPair();
  const name = `web.emojivoto.serviceaccount.identity.${config.controlPlaneNamespace}.${config.trustDomain}`;
  const now = Date.now();
  const leaf = await issueCertificate({
    subject: name, publicKey: keys.publicKey, issuer,
    notBefore: new Date(now - HOUR), notAfter: new Date(now + 24 * HOUR), keyUsage: ['digitalSignature'], extKeyUsage: ['serverAuth', 'clientAuth'],
    sans: [{ type: 'dns', value: name }],
  });
  return { keyPem: await exportPrivateKey(keys.privateKey), certChainPem: leaf.pem + issuer.certificate.pem, trustAnchorsPem };
}
