import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSync } from '@grpc/proto-loader';
import {
  decodeGetDestination, decodeUpdate, DestinationWireError, encodeGetDestination, encodeUpdate, Protocol, type Endpoint, type Update,
} from './wire.ts';

// protobufjs (through proto-loader) reads destination.proto: an independent judge of our bytes.
const proto = loadSync(join(import.meta.dirname, 'destination.proto'), { enums: String, defaults: false, oneofs: true });
const get = (proto['weft.destination.v1.Destination'] as unknown as Record<string, {
  requestSerialize(v: unknown): Buffer; requestDeserialize(b: Buffer): unknown;
  responseSerialize(v: unknown): Buffer; responseDeserialize(b: Buffer): Record<string, unknown>;
}>).Get;
if (get === undefined) throw new Error('destination.proto has no Get');

const web: Endpoint = {
  ip: '10.1.0.5', port: 8080, weight: 1, identity: 'web.emojivoto.serviceaccount.identity.weft.cluster.local',
  protocol: Protocol.opaque, inboundPort: 4143, labels: { namespace: 'emojivoto', pod: 'web-0', service: 'web-svc' },
};
const plain: Endpoint = { ip: 'fd00::7', port: 5432, weight: 1, identity: undefined, protocol: Protocol.unknown, inboundPort: undefined, labels: {} };

test('updates survive encode then decode unchanged', () => {
  const updates: Update[] = [
    { kind: 'add', endpoints: [web, plain] },
    { kind: 'add', endpoints: [] },
    { kind: 'remove', addresses: [{ ip: '10.1.0.5', port: 8080 }, { ip: 'fd00::7', port: 5432 }] },
    { kind: 'no_endpoints', exists: true },
    { kind: 'no_endpoints', exists: false },
  ];
  for (const u of updates) assert.deepEqual(decodeUpdate(encodeUpdate(u)), u);
  const req = { authority: 'web-svc.emojivoto.svc.cluster.local:80', contextToken: '{"ns":"emojivoto"}' };
  assert.deepEqual(decodeGetDestination(encodeGetDestination(req)), req);
});

test('protobufjs reads our updates as destination.proto defines them', () => {
  const add = get.responseDeserialize(Buffer.from(encodeUpdate({ kind: 'add', endpoints: [web] })));
  assert.deepEqual(JSON.parse(JSON.stringify(add)), {
    update: 'add',
    add: { addrs: [{
      addr: { ip: '10.1.0.5', port: 8080 }, weight: 1, tlsIdentity: web.identity,
      protocolHint: { protocol: 'OPAQUE', inboundPort: 4143 },
      metricLabels: { namespace: 'emojivoto', pod: 'web-0', service: 'web-svc' },
    }] },
  });
  const none = get.responseDeserialize(Buffer.from(encodeUpdate({ kind: 'no_endpoints', exists: true })));
  assert.deepEqual(JSON.parse(JSON.stringify(none)), { update: 'noEndpoints', noEndpoints: { exists: true } });
  const req = get.requestDeserialize(Buffer.from(encodeGetDestination({ authority: '10.96.0.10:80', contextToken: '' })));
  assert.deepEqual(JSON.parse(JSON.stringify(req)), { authority: '10.96.0.10:80' });
});

test('we read what protobufjs writes, including fields we do not know', () => {
  const bytes = get.responseSerialize({ remove: { addrs: [{ ip: '10.1.0.6', port: 80 }] } });
  assert.deepEqual(decodeUpdate(bytes), { kind: 'remove', addresses: [{ ip: '10.1.0.6', port: 80 }] });
  const add = get.responseSerialize({ add: { addrs: [{ addr: { ip: '10.1.0.5', port: 8080 }, protocolHint: { protocol: 'HTTP2' } }] } });
  assert.deepEqual(decodeUpdate(add), {
    kind: 'add',
    endpoints: [{ ip: '10.1.0.5', port: 8080, weight: 0, identity: undefined, protocol: Protocol.http2, inboundPort: undefined, labels: {} }],
  });
  // Field 99 (a newer server's addition) is skipped.
  const withUnknown = Buffer.concat([encodeGetDestination({ authority: 'a.b:1', contextToken: '' }), Buffer.from([0x9a, 0x06, 0x01, 0x78])]);
  assert.deepEqual(decodeGetDestination(withUnknown), { authority: 'a.b:1', contextToken: '' });
});

test('damaged messages fail as DestinationWireError, never otherwise', () => {
  const good = encodeUpdate({ kind: 'add', endpoints: [web, plain] });
  for (let cut = 1; cut < good.length; cut++) {
    try {
      decodeUpdate(good.subarray(0, cut));
    } catch (err) {
      assert.ok(err instanceof DestinationWireError, `cut at ${cut}: ${String(err)}`);
    }
  }
  // Random bytes: decode or refuse cleanly.
  let seed = 7;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)));
    try {
      decodeUpdate(buf);
      decodeGetDestination(buf);
    } catch (err) {
      assert.ok(err instanceof DestinationWireError, `input ${buf.toString('hex')}: ${String(err)}`);
    }
  }
  assert.throws(() => decodeUpdate(new Uint8Array(0)), { code: 'WEFT_ERR_DESTINATION_WIRE', message: /one of add, remove or no_endpoints/ });
});
