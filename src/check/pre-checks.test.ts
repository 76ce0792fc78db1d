import assert from 'node:assert/strict';
import { test } from 'node:test';
import { controlPlanePorts } from './pre-checks.ts';

test('controlPlanePorts() are every control-plane listener, destination included (regression: 8086 was not checked)', () => {
  const ports = controlPlanePorts({ admin: '10.244.7.1:9990', identity: '10.244.7.1:8080', destination: '10.244.7.1:8086' });
  assert.deepEqual(ports.map((p) => `${p.host}:${p.port}`), ['10.244.7.1:9990', '10.244.7.1:8080', '10.244.7.1:8086']);
  assert.deepEqual(ports.map((p) => p.what), ['control-plane admin', 'identity', 'destination']);
});
