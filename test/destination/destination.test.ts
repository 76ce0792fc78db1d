import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelCredentials, Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  encodeGetDestination, GET_PATH, Protocol, startDestinationClient, startDestinationService,
  type ClientTlsMaterial, type DestinationClientOptions, type DestinationService, type DestinationView, type DestinationWatch,
} from '../../src/destination/index.ts';
import { exportPrivateKey, generateKeyPair, issueCertificate } from '../../src/pki/index.ts';
import { fixture, foreignWorkload, otherRoot, waitFor, type Fixture } from './helpers.ts';

const WEB_ID = 'web.emojivoto.serviceaccount.identity.weft.cluster.local';
const EMOJI_ID = 'emoji.emojivoto.serviceaccount.identity.weft.cluster.local';
const FQDN = 'emoji-svc.emojivoto.svc.cluster.local:8080';

async function applyPod(f: Fixture, name: string, sa: string, ip: string): Promise<void> {
  await f.store.apply({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'emojivoto', annotations: { 'weft.dev/inject': 'enabled' } },
    spec: { serviceAccountName: sa, containers: [{ name: 'app', command: ['true'] }] },
  });
  await f.store.updateStatus({ kind: 'Pod', metadata: { name, namespace: 'emojivoto' }, status: { phase: 'Running', podIP: ip } });
}

async function applyService(f: Fixture): Promise<void> {
  await f.store.apply({
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'emoji-svc', namespace: 'emojivoto', annotations: { 'config.linkerd.io/opaque-ports': '9090' } },
    spec: { clusterIP: '10.96.0.20', selector: { app: 'emoji' }, ports: [
      { name: 'grpc', port: 8080, targetPort: 'grpc', appProtocol: 'kubernetes.io/h2c' },
      { name: 'prom', port: 9090, targetPort: 9091 },
    ] },
  });
}

/** Writes the Endpoints of emoji-svc with one address per `[pod, ip]`. */
async function applyEndpoints(f: Fixture, addresses: ReadonlyArray<readonly [string, string]>): Promise<void> {
  await f.store.apply({
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'emoji-svc', namespace: 'emojivoto' },
    subsets: addresses.length === 0 ? [] : [{
      addresses: addresses.map(([pod, ip]) => ({ ip, targetRef: { kind: 'Pod', name: pod, namespace: 'emojivoto' } })),
      ports: [{ name: 'grpc', port: 18080 }, { name: 'prom', port: 9091 }],
    }],
  });
}

/** A mesh with emoji-svc backed by emoji-0 (meshed, SA emoji) and a Pod web-0 (SA web). */
async function mesh(t: TestContext, prefix: string): Promise<{ f: Fixture; svc: DestinationService; web: ClientTlsMaterial }> {
  const f = await fixture(prefix);
  t.after(() => f.cleanup());
  await applyPod(f, 'emoji-0', 'emoji', '10.1.0.10');
  await applyPod(f, 'emoji-1', 'emoji', '10.1.0.11');
  await applyPod(f, 'web-0', 'web', '10.1.0.20');
  await applyService(f);
  await applyEndpoints(f, [['emoji-0', '10.1.0.10']]);
  const svc = await startDestinationService(f.store, { addr: '127.0.0.1:0', issuers: f.issuers });
  t.after(() => svc.close());
  return { f, svc, web: await f.workload('emojivoto', 'web') };
}

function watchOf(t: TestContext, opts: DestinationClientOptions, authority: string): DestinationWatch {
  const client = startDestinationClient(opts);
  t.after(() => client.close());
  return client.watch(authority);
}

const ips = (v: DestinationView | undefined): string[] => (v?.kind === 'endpoints' ? v.endpoints.map((e) => e.ip) : []);

test('a Service with Endpoints streams its endpoints with their identities and protocol hints', async (t) => {
  const { svc, web } = await mesh(t, 'stream');
  const w = watchOf(t, { addr: svc.address, tls: () => web }, FQDN);
  const view = await w.whenReady();
  assert.deepEqual(view, {
    kind: 'endpoints',
    endpoints: [{
      ip: '10.1.0.10', port: 18080, weight: 1, identity: EMOJI_ID, protocol: Protocol.http2, inboundPort: 4143,
      labels: { namespace: 'emojivoto', pod: 'emoji-0', service: 'emoji-svc', serviceaccount: 'emoji' },
    }],
  });
  assert.equal(w.connected(), true);
  assert.equal(svc.streams(), 1);
  assert.equal(svc.serverName, 'weft-destination.weft.serviceaccount.identity.weft.cluster.local');

  const prom = watchOf(t, { addr: svc.address, tls: () => web }, 'emoji-svc.emojivoto.svc.cluster.local:9090');
  const promView = await prom.whenReady();
  assert.deepEqual(promView.kind === 'endpoints' ? promView.endpoints.map((e) => [e.port, e.protocol]) : [], [[9091, Protocol.opaque]]);
});

test('adding and removing an address updates the stream live, and the iterator sees each set', async (t) => {
  const { f, svc, web } = await mesh(t, 'live');
  const w = watchOf(t, { addr: svc.address, tls: () => web }, FQDN);
  const seen: string[][] = [];
  const reading = (async () => {
    for await (const v of w) {
      seen.push(ips(v));
      if (v.kind === 'no_endpoints') return;
    }
  })();
  await waitFor('the first set', () => seen.length === 1);
  assert.deepEqual(seen[0], ['10.1.0.10']);

  await applyEndpoints(f, [['emoji-0', '10.1.0.10'], ['emoji-1', '10.1.0.11']]);
  await waitFor('emoji-1 added', () => ips(w.current()).length === 2);
  assert.deepEqual(w.current()?.kind === 'endpoints' ? w.current() : undefined, {
    kind: 'endpoints',
    endpoints: ['10.1.0.10', '10.1.0.11'].map((ip, i) => ({
      ip, port: 18080, weight: 1, identity: EMOJI_ID, protocol: Protocol.http2, inboundPort: 4143,
      labels: { namespace: 'emojivoto', pod: `emoji-${i}`, service: 'emoji-svc', serviceaccount: 'emoji' },
    })),
  });

  await applyEndpoints(f, [['emoji-1', '10.1.0.11']]);
  await waitFor('emoji-0 removed', () => ips(w.current()).join() === '10.1.0.11');

  // A pod losing its mesh status changes its endpoint's identity in place.
  await f.store.updateStatus({ kind: 'Pod', metadata: { name: 'emoji-1', namespace: 'emojivoto' }, status: { podIP: '10.1.0.11', meshed: false } });
  await waitFor('emoji-1 unmeshed', () => {
    const v = w.current();
    return v?.kind === 'endpoints' && v.endpoints[0]?.identity === undefined && v.endpoints[0]?.inboundPort === undefined;
  });

  await applyEndpoints(f, []);
  await waitFor('no endpoints', () => w.current()?.kind === 'no_endpoints');
  assert.deepEqual(w.current(), { kind: 'no_endpoints', exists: true });
  await reading;
  assert.deepEqual(seen.at(-1), []);
  assert.ok(seen.length >= 3, `the iterator saw ${JSON.stringify(seen)}`);

  await f.store.delete('Service', 'emoji-svc', 'emojivoto');
  await waitFor('the service gone', () => w.current()?.kind === 'no_endpoints' && !(w.current() as { exists: boolean }).exists);
});

test('a ClusterIP:port and a pod IP:port resolve for transparent mode', async (t) => {
  const { svc, web } = await mesh(t, 'ip');
  const byIp = watchOf(t, { addr: svc.address, tls: () => web }, '10.96.0.20:8080');
  const byName = watchOf(t, { addr: svc.address, tls: () => web }, FQDN);
  assert.deepEqual(await byIp.whenReady(), await byName.whenReady());
  const pod = watchOf(t, { addr: svc.address, tls: () => web }, '10.1.0.20:8080');
  const v = await pod.whenReady();
  assert.deepEqual(v.kind === 'endpoints' ? v.endpoints.map((e) => [e.ip, e.port, e.identity]) : v, [['10.1.0.20', 8080, WEB_ID]]);
});

test('an unknown service gets no_endpoints, and a short name resolves in the context namespace', async (t) => {
  const { svc, web } = await mesh(t, 'unknown');
  const w = watchOf(t, { addr: svc.address, tls: () => web }, 'nope.emojivoto.svc.cluster.local:80');
  assert.deepEqual(await w.whenReady(), { kind: 'no_endpoints', exists: false });
  const ext = watchOf(t, { addr: svc.address, tls: () => web }, 'api.example.com:443');
  assert.deepEqual(await ext.whenReady(), { kind: 'no_endpoints', exists: false });
  const short = watchOf(t, { addr: svc.address, tls: () => web, contextToken: '{"ns":"emojivoto","pod":"web-0"}' }, 'emoji-svc:8080');
  assert.deepEqual(ips(await short.whenReady()), ['10.1.0.10']);
});

test('the client keeps the last set while the service is down and takes the new one after it restarts', async (t) => {
  const { f, svc, web } = await mesh(t, 'restart');
  const w = watchOf(t, { addr: svc.address, tls: () => web, backoffBaseMs: 20, backoffMaxMs: 200 }, FQDN);
  assert.deepEqual(ips(await w.whenReady()), ['10.1.0.10']);

  await svc.close();
  await waitFor('the client to notice', () => !w.connected());
  assert.match(String(w.lastError()?.message), /Get ".*" (failed|ended)/);
  // Meanwhile the store changes: emoji-0 goes, emoji-1 comes.
  await applyEndpoints(f, [['emoji-1', '10.1.0.11']]);
  assert.deepEqual(ips(w.current()), ['10.1.0.10'], 'the last known set stays in force while disconnected');

  const again = await startDestinationService(f.store, { addr: svc.address, issuers: f.issuers });
  t.after(() => again.close());
  await waitFor('the client to reconnect', () => w.connected());
  // The new stream's first set replaces the old one: emoji-0 is not merged back in.
  await waitFor('the new set', () => ips(w.current()).join() === '10.1.0.11');
  assert.equal(w.lastError(), undefined);
});

test('a client without a valid workload certificate is refused', async (t) => {
  const { f, svc } = await mesh(t, 'refuse');
  const anchors = f.anchor.certificate.pem;

  // 1. A certificate from another root.
  const foreign = await foreignWorkload(await otherRoot(), f.config, anchors);
  const w = watchOf(t, { addr: svc.address, tls: () => foreign, backoffBaseMs: 20, backoffMaxMs: 100 }, FQDN);
  await waitFor('a refusal', () => w.lastError() !== undefined);
  assert.equal(w.current(), undefined);
  assert.equal(w.connected(), false);
  assert.equal(svc.streams(), 0);

  // 2. No certificate at all: TLS fails before any request is read.
  const bare = new Client(svc.address, ChannelCredentials.createSsl(Buffer.from(anchors)), {
    'grpc.ssl_target_name_override': svc.serverName, 'grpc.default_authority': svc.serverName,
  });
  t.after(() => bare.close());
  const err = await new Promise<ServiceError>((resolve) => {
    const call = bare.makeServerStreamRequest(GET_PATH, (m: Uint8Array) => Buffer.from(m), (b: Buffer) => b,
      encodeGetDestination({ authority: FQDN, contextToken: '' }), new Metadata());
    call.on('data', () => assert.fail('a client without a certificate got data'));
    call.on('error', resolve);
  });
  assert.equal(err.code, status.UNAVAILABLE);
  assert.equal(svc.streams(), 0);

  // 3. None yet from the identity client: the watch waits, and says why.
  const none = watchOf(t, { addr: svc.address, tls: () => undefined, backoffBaseMs: 20 }, FQDN);
  await waitFor('a reason', () => none.lastError() !== undefined);
  assert.match(String(none.lastError()?.message), /Wait for a workload certificate/);

  // 4. The client checks the server too: a wrong server name fails.
  const web = await f.workload('emojivoto', 'web');
  const spoof = watchOf(t, { addr: svc.address, tls: () => web, serverName: WEB_ID, backoffBaseMs: 20 }, FQDN);
  await waitFor('a refusal of the server', () => spoof.lastError() !== undefined);
  assert.equal(spoof.current(), undefined);

  // 5. A certificate from the mesh's issuer that names no workload: refused by the service itself.
  const issuer = f.issuers.current(new Date());
  assert.ok(issuer !== undefined);
  const keys = await generateKeyPair();
  const odd = await issueCertificate({
    subject: 'odd.example', publicKey: keys.publicKey, issuer: { certificate: issuer.certificate, privateKey: issuer.privateKey },
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000),
    keyUsage: ['digitalSignature'], extKeyUsage: ['clientAuth'], sans: [{ type: 'dns', value: 'odd.example' }],
  });
  const oddTls = { keyPem: await exportPrivateKey(keys.privateKey), certChainPem: odd.pem + issuer.certificate.pem, trustAnchorsPem: anchors };
  const nameless = watchOf(t, { addr: svc.address, tls: () => oddTls, backoffBaseMs: 1000 }, FQDN);
  await waitFor('a refusal by the service', () => nameless.lastError() !== undefined);
  assert.equal((nameless.lastError() as { grpcCode?: number }).grpcCode, status.UNAUTHENTICATED);
  assert.match(String(nameless.lastError()?.message), /Present a workload certificate/);
});

test('a malformed authority is refused with INVALID_ARGUMENT and a reason', async (t) => {
  const { svc, web } = await mesh(t, 'invalid');
  const w = watchOf(t, { addr: svc.address, tls: () => web, backoffBaseMs: 1000 }, 'emoji-svc.emojivoto');
  await waitFor('the refusal', () => w.lastError() !== undefined);
  assert.equal((w.lastError() as { grpcCode?: number }).grpcCode, status.INVALID_ARGUMENT);
  assert.match(String(w.lastError()?.message), /Send the authority as host:port/);
});
