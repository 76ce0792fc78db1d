import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DESTINATION_ADDR } from '../destination/index.ts';
import { DEFAULT_IDENTITY_ADDR } from '../identity/index.ts';
import { DEFAULT_CONTROL_PLANE_ADMIN } from './mesh-context.ts';
import { DEFAULT_PORTS } from './pre-checks.ts';

test('DEFAULT_PORTS are every control-plane default listener, destination included (regression: 8086 was not checked)', () => {
  assert.deepEqual(DEFAULT_PORTS.map((p) => `${p.host}:${p.port}`), [DEFAULT_CONTROL_PLANE_ADMIN, DEFAULT_IDENTITY_ADDR, DEFAULT_DESTINATION_ADDR]);
  assert.deepEqual(DEFAULT_PORTS.map((p) => p.what), ['control-plane admin', 'identity', 'destination']);
});
