import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Resource, Service } from '../api/index.ts';
import { parseAuthority } from './authority.ts';
import { applyUpdate, diffResolutions } from './diff.ts';
import { addressKey } from './address-key.ts';
import { podFacts, resolveDestination, type ClusterState, type PodFacts, type Resolution } from './resolve.ts';
import { Protocol, type Endpoint } from './wire.ts';

const DOMAIN = { controlPlaneNamespace: 'weft', trustDomain: 'cluster.local' };
const id = (sa: string, ns = 'emojivoto'): string => `${sa}.${ns}.serviceaccount.identity.weft.cluster.local`;

function pod(name: string, opts: { sa?: string; ip?: string; meshed?: boolean; annotations?: Record<string, string> } = {}): Resource {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'emojivoto', ...(opts.annotations === undefined ? {} : { annotations: opts.annotations }) },
    spec: { containers: [{ name: 'app' }], ...(opts.sa === undefined ? {} : { serviceAccountName: opts.sa }) },
    status: { ...(opts.ip === undefined ? {} : { podIP: opts.ip }), ...(opts.meshed === undefined ? {} : { meshed: opts.meshed }) },
  };
}

function state(services: Service[], endpoints: Endpoints[], pods: Resource[]): ClusterState {
  const facts = pods.map(podFacts);
  return {
    service: (ns, name) => services.find((s) => s.metadata.namespace === ns && s.metadata.name === name),
    serviceByIp: (ip) => services.find((s) => s.spec.clusterIP === ip),
    endpoints: (ns, name) => endpoints.find((e) => e.metadata.namespace === ns && e.metadata.name === name),
    pod: (ns, name) => facts.find((p: PodFacts) => p.namespace === ns && p.name === name),
    podByIp: (ip) => facts.find((p) => p.ip === ip),
  };
}

const svc: Service = {
  apiVersion: 'v1', kind: 'Service',
  metadata: { name: 'web-svc', namespace: 'emojivoto', annotations: { 'config.linkerd.io/opaque-ports': '5432' } },
  spec: { clusterIP: '10.96.0.10', ports: [
    { name: 'http', port: 80, targetPort: 'http', appProtocol: 'http' },
    { name: 'grpc', port: 8080, targetPort: 8080, appProtocol: 'kubernetes.io/h2c' },
    { name: 'db', port: 5432 },
    { name: 'raw', port: 9000 },
  ] },
};
const eps: Endpoints = {
  apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web-svc', namespace: 'emojivoto' },
  subsets: [{
    addresses: [
      { ip: '10.1.0.5', targetRef: { kind: 'Pod', name: 'web-0', namespace: 'emojivoto' } },
      { ip: '10.1.0.6', targetRef: { kind: 'Pod', name: 'web-1' } },
      { ip: '10.1.0.7', targetRef: { kind: 'Pod', name: 'legacy' } },
      { ip: '10.1.0.8' },
    ],
    notReadyAddresses: [{ ip: '10.1.0.9', targetRef: { kind: 'Pod', name: 'web-2' } }],
    ports: [{ name: 'http', port: 8081 }, { name: 'grpc', port: 8080 }, { name: 'db', port: 5432 }, { name: 'raw', port: 9000 }],
  }],
};
const pods = [
  pod('web-0', { sa: 'web', ip: '10.1.0.5', meshed: true }),
  pod('web-1', { sa: 'web', annotations: { 'weft.dev/inject': 'enabled', 'weft.dev/opaque-ports': '9000', 'config.linkerd.io/proxy-inbound-port': '4243' } }),
  pod('legacy', { ip: '10.1.0.7', annotations: { 'linkerd.io/inject': 'enabled' }, meshed: false }),
];
const world = state([svc], [eps], pods);
const resolve = (authority: string): Resolution => resolveDestination(parseAuthority(authority, { contextNamespace: 'emojivoto' }), world, { domain: DOMAIN });
const endpoints = (r: Resolution): readonly Endpoint[] => (r.kind === 'endpoints' ? r.endpoints : assert.fail(`expected endpoints, got ${JSON.stringify(r)}`));

test('a Service port resolves to its ready addresses at the target port, each with its pod\'s identity', () => {
  const got = endpoints(resolve('web-svc.emojivoto.svc.cluster.local:80'));
  assert.deepEqual(got.map((e) => [e.ip, e.port, e.identity, e.inboundPort, e.protocol]), [
    ['10.1.0.5', 8081, id('web'), 4143, Protocol.http1],
    ['10.1.0.6', 8081, id('web'), 4243, Protocol.http1],
    ['10.1.0.7', 8081, undefined, undefined, Protocol.http1],
    ['10.1.0.8', 8081, undefined, undefined, Protocol.http1],
  ]);
  assert.deepEqual(got[0]?.labels, { namespace: 'emojivoto', service: 'web-svc', pod: 'web-0', serviceaccount: 'web' });
  assert.deepEqual(got[3]?.labels, { namespace: 'emojivoto', service: 'web-svc' });
});

test('the protocol hint: Service opaque ports, then pod opaque ports, then appProtocol, else detect', () => {
  assert.deepEqual(endpoints(resolve('web-svc.emojivoto:8080')).map((e) => e.protocol), Array(4).fill(Protocol.http2));
  assert.deepEqual(endpoints(resolve('web-svc.emojivoto:5432')).map((e) => e.protocol), Array(4).fill(Protocol.opaque));
  // Only web-1's pod annotation names 9000.
  assert.deepEqual(endpoints(resolve('web-svc.emojivoto:9000')).map((e) => e.protocol),
    [Protocol.unknown, Protocol.opaque, Protocol.unknown, Protocol.unknown]);
});

test('a ClusterIP resolves as its Service; a pod IP as that one pod', () => {
  assert.deepEqual(resolve('10.96.0.10:80'), resolve('web-svc.emojivoto.svc.cluster.local:80'));
  assert.deepEqual(endpoints(resolve('10.1.0.5:8081')).map((e) => [e.ip, e.port, e.identity]), [['10.1.0.5', 8081, id('web')]]);
  assert.deepEqual(endpoints(resolve('10.1.0.7:8081')).map((e) => [e.ip, e.identity]), [['10.1.0.7', undefined]]);
});

test('what does not exist has no endpoints; a Service without any has them "existing"', () => {
  assert.deepEqual(resolve('nope.emojivoto.svc.cluster.local:80'), { kind: 'no_endpoints', exists: false });
  assert.deepEqual(resolve('web-svc.emojivoto.svc.cluster.local:81'), { kind: 'no_endpoints', exists: false });
  assert.deepEqual(resolve('10.99.0.1:80'), { kind: 'no_endpoints', exists: false });
  assert.deepEqual(resolve('api.example.com:443'), { kind: 'no_endpoints', exists: false });
  const empty = state([svc], [], []);
  assert.deepEqual(resolveDestination(parseAuthority('web-svc.emojivoto:80'), empty, { domain: DOMAIN }), { kind: 'no_endpoints', exists: true });
});

test('a one-port Service matches an unnamed Endpoints port; a ServiceAccount defaults to "default"', () => {
  const one: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'emojivoto' }, spec: { ports: [{ port: 5432 }] } };
  const oneEps: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', namespace: 'emojivoto' },
    subsets: [{ addresses: [{ ip: '10.1.1.1', targetRef: { kind: 'Pod', name: 'db-0' } }], ports: [{ port: 15432 }] }] };
  const s = state([one], [oneEps], [pod('db-0', { meshed: true })]);
  const r = resolveDestination(parseAuthority('db.emojivoto:5432'), s, { domain: DOMAIN });
  assert.deepEqual(endpoints(r).map((e) => [e.ip, e.port, e.identity]), [['10.1.1.1', 15432, id('default')]]);
});

test('diffResolutions() and applyUpdate() carry a client from any set to any other', () => {
  const a = resolve('web-svc.emojivoto:80');
  const aEndpoints = endpoints(a);
  const b: Resolution = { kind: 'endpoints', endpoints: [
    ...aEndpoints.slice(1, 3),
    { ...(aEndpoints[3] as Endpoint), identity: id('late') },
    { ip: '10.1.0.20', port: 8081, weight: 1, identity: undefined, protocol: Protocol.unknown, inboundPort: undefined, labels: {} },
  ].sort((x, y) => (addressKey(x) < addressKey(y) ? -1 : 1)) };
  const none: Resolution = { kind: 'no_endpoints', exists: true };
  const gone: Resolution = { kind: 'no_endpoints', exists: false };
  for (const [from, to] of [[undefined, a], [undefined, none], [a, b], [b, a], [a, none], [none, b], [none, gone], [gone, gone], [a, a]] as const) {
    let held: Resolution | undefined = from;
    for (const u of diffResolutions(from, to)) held = applyUpdate(held, u);
    assert.deepEqual(held, to);
  }
  assert.deepEqual(diffResolutions(a, a), []);
  assert.deepEqual(diffResolutions(a, b).map((u) => u.kind), ['remove', 'add']);
  const add = diffResolutions(a, b)[1];
  assert.deepEqual(add?.kind === 'add' ? add.endpoints.map((e) => e.ip) : [], ['10.1.0.20', '10.1.0.8']);
});

test('a pod injected by a webhook (a weft-proxy container, no status.meshed) gets its identity (regression: discovery sent it plain text)', () => {
  const injected: Resource = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-k8s', namespace: 'emojivoto' },
    spec: { serviceAccountName: 'web', containers: [{ name: 'app' }, { name: 'weft-proxy' }] }, status: { podIP: '10.1.0.20' },
  };
  const facts = podFacts(injected);
  assert.equal(facts.meshed, true);
  const r = resolveDestination(parseAuthority('10.1.0.20:8081'), state([], [], [injected]), { domain: DOMAIN });
  assert.deepEqual(endpoints(r).map((e) => [e.ip, e.identity, e.inboundPort]), [['10.1.0.20', id('web'), 4143]]);
});
