import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destinationFromView } from './destination-discovery.ts';

const ID = 'api.shop.serviceaccount.identity.weft.cluster.local';
const ep = (o: { ip: string; port: number; identity?: string; inboundPort?: number; protocol?: 'unknown' | 'opaque' | 'http1' | 'http2' }) => ({
  ip: o.ip, port: o.port, weight: 1, identity: o.identity, protocol: o.protocol ?? 'unknown', inboundPort: o.inboundPort, labels: {},
});

test('destinationFromView() sends to a meshed endpoint\'s proxy inbound port with its app port in the header', () => {
  const d = destinationFromView({ kind: 'endpoints', endpoints: [ep({ ip: '10.1.0.3', port: 8080, identity: ID, inboundPort: 4143 })] }, 'api.shop', 80, 'api.shop:80');
  assert.deepEqual(d.endpoints, [{ host: '10.1.0.3', port: 4143, identity: ID, targetPort: 8080, protocol: 'unknown' }]);
});

test('destinationFromView() uses the default inbound port when a meshed endpoint has no hint', () => {
  const d = destinationFromView({ kind: 'endpoints', endpoints: [ep({ ip: '10.1.0.3', port: 8080, identity: ID })] }, 'x', 80, 'x:80', 4999);
  assert.equal(d.endpoints[0]?.port, 4999);
});

test('destinationFromView() reaches an endpoint without identity at its own port, in plain text, keeping its protocol hint', () => {
  const d = destinationFromView({ kind: 'endpoints', endpoints: [ep({ ip: '10.1.0.4', port: 5432, protocol: 'opaque' })] }, 'db', 5432, 'db:5432');
  assert.deepEqual(d.endpoints, [{ host: '10.1.0.4', port: 5432, identity: undefined, targetPort: 5432, protocol: 'opaque' }]);
});

test('destinationFromView() gives a known Service without endpoints no endpoints and a reason (503)', () => {
  const d = destinationFromView({ kind: 'no_endpoints', exists: true }, 'api.shop', 80, 'api.shop:80');
  assert.deepEqual(d.endpoints, []);
  assert.match(d.reason ?? '', /no endpoints for "api.shop:80"/);
});

test('destinationFromView() forwards an address the mesh does not know as it is, in plain text', () => {
  const d = destinationFromView({ kind: 'no_endpoints', exists: false }, '93.184.216.34', 443, '93.184.216.34:443');
  assert.deepEqual(d.endpoints, [{ host: '93.184.216.34', port: 443, identity: undefined, targetPort: 443, protocol: 'unknown' }]);
});
