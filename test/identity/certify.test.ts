import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { createCsr, generateKeyPair, parseCertificates, type Certificate } from '../../src/pki/index.ts';
import {
  CertifyCallError, createServiceAccountToken, generateJwtSigningKey, identityName, IdentityRpcClient, mintToken,
  startIdentityClient, startIdentityService, TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY,
} from '../../src/identity/index.ts';
import { controlPlane, makeIssuer, ManualClock, tempDir, writeIssuerSecret } from './helpers.ts';

const WEB = identityName({ namespace: 'emojivoto', serviceAccount: 'web' });
const HOUR = 3_600_000;

test('a workload client gets a leaf over gRPC/TLS that openssl verify accepts, with the identity SANs and validity', async (t) => {
  const clock = new ManualClock(Date.now());
  const cp = await controlPlane(clock);
  t.after(() => cp.cleanup());
  const svc = await startIdentityService(cp.store, { addr: '127.0.0.1:0', adminAddr: '127.0.0.1:0', clock });
  t.after(() => svc.close());
  const files = tempDir('certify');
  t.after(files.cleanup);
  const anchorsPem = (await cp.store.get('ConfigMap', TRUST_ROOTS_CONFIG_MAP, 'weft'))?.data?.[TRUST_ROOTS_KEY] as string;
  writeFileSync(join(files.dir, 'anchors.pem'), anchorsPem);
  writeFileSync(join(files.dir, 'token'), await createServiceAccountToken(cp.store, {
    namespace: 'emojivoto', serviceAccount: 'web', podName: 'web-0', ttlMs: 24 * HOUR, now: clock.now(),
  }));

  const client = await startIdentityClient({
    addr: svc.address, identity: WEB, tokenFile: join(files.dir, 'token'), trustAnchorsFile: join(files.dir, 'anchors.pem'), clock,
  });
  t.after(() => client.close());
  const m = await client.whenReady();

  const [leaf, ...chain] = parseCertificates(m.certChainPem) as [Certificate, ...Certificate[]];
  writeFileSync(join(files.dir, 'leaf.pem'), leaf.pem);
  writeFileSync(join(files.dir, 'chain.pem'), chain.map((c) => c.pem).join(''));
  const out = execFileSync('openssl', ['verify', '-CAfile', join(files.dir, 'anchors.pem'), '-untrusted', join(files.dir, 'chain.pem'),
    '-purpose', 'sslclient', join(files.dir, 'leaf.pem')], { encoding: 'utf8' });
  assert.match(out, /leaf\.pem: OK/);
  assert.deepEqual(leaf.sans, [
    { type: 'dns', value: 'web.emojivoto.serviceaccount.identity.weft.cluster.local' },
    { type: 'uri', value: 'spiffe://cluster.local/ns/emojivoto/sa/web' },
  ]);
  assert.deepEqual([...leaf.extKeyUsage].sort(), ['clientAuth', 'serverAuth']);
  assert.equal(leaf.isCA, false);
  assert.equal(leaf.publicKey.curve, 'P-256');
  // Certificates carry whole seconds.
  const sec = (ms: number): number => Math.floor(ms / 1000);
  assert.equal(sec(leaf.notBefore.getTime()), sec(clock.now() - 20_000));
  assert.equal(sec(leaf.notAfter.getTime()), sec(clock.now() + 24 * HOUR));
  assert.equal(m.validUntil.getTime(), leaf.notAfter.getTime());
  assert.equal(chain[0]?.serialNumber, cp.issuer.certificate.serialNumber);
  assert.ok(m.keyPem.includes('BEGIN PRIVATE KEY'));
  assert.equal(readFileSync(join(files.dir, 'leaf.pem'), 'utf8'), leaf.pem);

  // The admin side: ready, and the metrics say what happened.
  const ready = await fetch(`http://${svc.adminAddress}/ready`);
  assert.equal(ready.status, 200);
  const metrics = await (await fetch(`http://${svc.adminAddress}/metrics`)).text();
  assert.match(metrics, /identity_certify_requests_total\{result="ok"\} 1/);
  assert.match(metrics, new RegExp(`identity_issuer_expiration_timestamp_seconds ${cp.issuer.certificate.notAfter.getTime() / 1000}`));
  assert.match(metrics, /identity_issuer_reloads_total\{result="accepted"\} 1/);
  // Outcomes that have not happened are exported at 0, so a dashboard's rate() has a series from the start.
  assert.match(metrics, /identity_issuer_reloads_total\{result="refused"\} 0/);
  assert.match(client.metrics(), new RegExp(`identity_cert_expiration_timestamp_seconds ${leaf.notAfter.getTime() / 1000}`));
  assert.match(client.metrics(), /identity_cert_refresh_count\{result="ok"\} 1/);
});

test('Certify refuses each bad request with its own gRPC status and a specific message', async (t) => {
  const clock = new ManualClock(Date.now());
  const cp = await controlPlane(clock);
  t.after(() => cp.cleanup());
  const svc = await startIdentityService(cp.store, { addr: '127.0.0.1:0', clock });
  t.after(() => svc.close());
  const rpc = new IdentityRpcClient({ addr: svc.address, serverName: svc.serverName, trustAnchorsPem: cp.anchor.certificate.pem });
  t.after(() => rpc.close());
  const files = tempDir('neg');
  t.after(files.cleanup);

  const token = (opts: { sa?: string; now?: number; ttlMs?: number } = {}): Promise<string> => createServiceAccountToken(cp.store, {
    namespace: 'emojivoto', serviceAccount: opts.sa ?? 'web', ttlMs: opts.ttlMs ?? HOUR, now: opts.now ?? clock.now(),
  });
  const keys = await generateKeyPair();
  const goodCsr = (await createCsr({ subject: WEB, keyPair: keys, sans: [{ type: 'dns', value: WEB }] })).der;
  const twoSans = (await createCsr({ subject: WEB, keyPair: keys, sans: [{ type: 'dns', value: WEB }, { type: 'dns', value: 'evil.example' }] })).der;
  const uriSan = (await createCsr({ subject: WEB, keyPair: keys, sans: [{ type: 'dns', value: WEB }, { type: 'uri', value: 'spiffe://x/y' }] })).der;
  const p384 = (await createCsr({ subject: WEB, keyPair: await generateKeyPair({ kty: 'EC', crv: 'P-384' }), sans: [{ type: 'dns', value: WEB }] })).der;
  // An RSA CSR made by openssl, an independent encoder.
  execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(files.dir, 'rsa.key'), '-subj', `/CN=${WEB}`,
    '-addext', `subjectAltName=DNS:${WEB}`, '-outform', 'DER', '-out', join(files.dir, 'rsa.csr')], { stdio: 'ignore' });
  const rsaCsr = readFileSync(join(files.dir, 'rsa.csr'));
  // Flip a bit inside the signature (the last bytes of the DER).
  const broken = Buffer.from(goodCsr);
  broken[broken.length - 5] = (broken[broken.length - 5] as number) ^ 0x01;

  const cases: Array<[string, { identity?: string; token?: string; csr?: Uint8Array }, status, RegExp]> = [
    ['no token', { token: '' }, status.UNAUTHENTICATED, /token is required/],
    ['a token signed by another key', { token: mintToken(generateJwtSigningKey(), { namespace: 'emojivoto', serviceAccount: 'web', ttlMs: HOUR, now: clock.now() }) },
      status.UNAUTHENTICATED, /unknown-key/],
    ['an expired token', { token: await token({ now: clock.now() - 2 * HOUR, ttlMs: HOUR }) }, status.UNAUTHENTICATED, /expired/],
    ['a token for another ServiceAccount', { token: await token({ sa: 'voting' }) }, status.PERMISSION_DENIED,
      /requested identity "web\.emojivoto\.[^"]+" does not match the token's "voting\.emojivoto/],
    ['a CSR with two DNS SANs', { csr: twoSans }, status.INVALID_ARGUMENT, /exactly one DNS name: found 2/],
    ['a CSR with a URI SAN', { csr: uriSan }, status.INVALID_ARGUMENT, /must not have URI SAN/],
    ['an RSA CSR', { csr: rsaCsr }, status.INVALID_ARGUMENT, /must be ECDSA P-256: found RSA 2048/],
    ['a P-384 CSR', { csr: p384 }, status.INVALID_ARGUMENT, /must be ECDSA P-256: found ECDSA P-384/],
    ['a CSR whose signature is broken', { csr: broken }, status.INVALID_ARGUMENT, /signature does not verify/],
    ['a CSR that is not DER', { csr: Buffer.from('hello') }, status.INVALID_ARGUMENT, /not a DER PKCS#10 CSR/],
    ['a CSR for another name', { identity: identityName({ namespace: 'emojivoto', serviceAccount: 'voting' }), token: await token({ sa: 'voting' }) },
      status.INVALID_ARGUMENT, /DNS name "web\.[^"]+" must equal the requested identity "voting\./],
    ['no identity', { identity: '' }, status.INVALID_ARGUMENT, /identity is required/],
    ['an identity of another trust domain', { identity: 'web.emojivoto.serviceaccount.identity.weft.example.org' }, status.INVALID_ARGUMENT, /must have the form/],
  ];
  const good = await token();
  for (const [name, req, code, message] of cases) {
    const err = await rpc.certify({
      identity: req.identity ?? WEB, token: Buffer.from(req.token ?? good), certificateSigningRequest: req.csr ?? goodCsr,
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof CertifyCallError, `${name}: expected a refusal`);
    assert.equal(status[err.grpcCode], status[code], `${name}: ${err.message}`);
    assert.match(err.message, message, name);
  }
  // The same request with a good token and CSR succeeds: the refusals above were the cases, not the setup.
  const ok = await rpc.certify({ identity: WEB, token: Buffer.from(good), certificateSigningRequest: goodCsr });
  assert.ok(ok.leafCertificate.length > 0);
  // A deleted ServiceAccount's token stops working.
  await cp.store.delete('ServiceAccount', 'web', 'emojivoto');
  const gone = await rpc.certify({ identity: WEB, token: Buffer.from(good), certificateSigningRequest: goodCsr }).catch((e: unknown) => e);
  assert.ok(gone instanceof CertifyCallError && gone.grpcCode === status.UNAUTHENTICATED && /service-account-gone/.test(gone.message));

  const m = svc.metrics();
  assert.match(m, /identity_certify_requests_total\{result="unauthenticated"\} 4/);
  assert.match(m, /identity_certify_requests_total\{result="permission-denied"\} 1/);
  assert.match(m, /identity_certify_requests_total\{result="invalid-csr"\} 7/);
  assert.match(m, /identity_certify_requests_total\{result="invalid-request"\} 2/);
});

test('Certify answers UNAVAILABLE "issuer not ready" once the issuer has expired, and /ready turns 503', async (t) => {
  const clock = new ManualClock(Date.now());
  const cp = await controlPlane(clock);
  t.after(() => cp.cleanup());
  // An issuer that expires in one hour replaces the 48 h one.
  const short = await makeIssuer(cp.anchor, { notBefore: new Date(clock.now() - HOUR), notAfter: new Date(clock.now() + HOUR) });
  await writeIssuerSecret(cp.store, short, cp.anchor.certificate);
  const svc = await startIdentityService(cp.store, { addr: '127.0.0.1:0', clock });
  t.after(() => svc.close());
  const rpc = new IdentityRpcClient({ addr: svc.address, serverName: svc.serverName, trustAnchorsPem: cp.anchor.certificate.pem });
  t.after(() => rpc.close());
  const keys = await generateKeyPair();
  const csr = (await createCsr({ subject: WEB, keyPair: keys, sans: [{ type: 'dns', value: WEB }] })).der;
  const token = await createServiceAccountToken(cp.store, { namespace: 'emojivoto', serviceAccount: 'web', ttlMs: 24 * HOUR, now: clock.now() });

  const first = parseCertificates((await rpc.certify({ identity: WEB, token: Buffer.from(token), certificateSigningRequest: csr })).leafCertificate)[0];
  assert.ok(first !== undefined && first.notAfter.getTime() <= short.certificate.notAfter.getTime(), 'a leaf never outlives its issuer');

  clock.advance(HOUR + 1000);
  assert.equal(svc.ready(), false);
  const err = await rpc.certify({ identity: WEB, token: Buffer.from(token), certificateSigningRequest: csr }).catch((e: unknown) => e);
  assert.ok(err instanceof CertifyCallError);
  assert.equal(err.grpcCode, status.UNAVAILABLE);
  assert.match(err.message, /issuer not ready/);
  const res = { code: 0, body: '' };
  svc.adminHandler({ url: '/ready' } as never, {
    writeHead(code: number) { res.code = code; return this; },
    end(body: string) { res.body = body; },
  } as never);
  assert.equal(res.code, 503);
});
