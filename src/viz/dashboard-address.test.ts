import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDashboardAddress } from './dashboard-address.ts';

test('parseDashboardAddress() reads HOST:PORT, bracketed IPv6 and port 0', () => {
  assert.deepEqual(parseDashboardAddress('127.0.0.1:50750'), { host: '127.0.0.1', port: 50750 });
  assert.deepEqual(parseDashboardAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseDashboardAddress('localhost:8084'), { host: 'localhost', port: 8084 });
});

test('parseDashboardAddress() refuses what is not HOST:PORT, naming the flag', () => {
  for (const bad of ['50750', '127.0.0.1', '127.0.0.1:70000', '::1:80', 'host:port']) {
    assert.throws(() => parseDashboardAddress(bad, '--dashboard-addr'), (err: Error & { code?: string }) =>
      err.code === 'WEFT_ERR_USAGE' && err.message.startsWith('Use HOST:PORT for --dashboard-addr'), bad);
  }
});
