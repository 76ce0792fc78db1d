import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockingListener, parseProcNetTcp } from './listeners.ts';

// Lines as /proc/net/tcp prints them on this (little-endian) machine.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:2706 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0107F40A:1F96 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
   3: 0100007F:1F96 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0051 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000107F40A:0052 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1 0000000000000000 100 0 0 10 0
`;

test('parseProcNetTcp() reads the listening sockets of /proc/net/tcp and tcp6, skipping connections', () => {
  assert.deepEqual(parseProcNetTcp(TCP), [
    { address: '127.0.0.1', port: 8080 },
    { address: '0.0.0.0', port: 9990 },
    { address: '10.244.7.1', port: 8086 },
  ]);
  assert.deepEqual(parseProcNetTcp(TCP6), [
    { address: '::', port: 80 },
    { address: '::1', port: 81 },
    { address: '10.244.7.1', port: 82 },
  ]);
  assert.deepEqual(parseProcNetTcp(''), []);
});

test('blockingListener() is a listener at the same address or a wildcard, never one at another specific address', () => {
  const listeners = [
    { address: '127.0.0.1', port: 8080 },
    { address: '0.0.0.0', port: 9990 },
    { address: '::', port: 80 },
    { address: '10.244.7.1', port: 8086 },
    { address: '::1', port: 81 },
  ];
  const cases: Array<[string, number, string | undefined]> = [
    // Regression: the pre-check bound 127.0.0.1 while weft up binds the bridge's gateway.
    ['10.244.7.1', 8080, undefined],
    ['127.0.0.1', 8080, '127.0.0.1'],
    ['10.244.7.1', 9990, '0.0.0.0'],
    ['10.244.7.1', 80, '::'],
    ['10.244.7.1', 8086, '10.244.7.1'],
    ['10.244.8.1', 8086, undefined],
    ['[::1]', 81, '::1'],
    ['0.0.0.0', 8086, '10.244.7.1'],
    ['10.244.7.1', 1234, undefined],
  ];
  for (const [host, port, want] of cases) {
    assert.equal(blockingListener(host, port, listeners)?.address, want, `${host}:${port}`);
  }
});
