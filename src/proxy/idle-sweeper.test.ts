import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleSweeper } from './idle-sweeper.ts';
import { tcpPair, waitFor } from '../../test/proxy/sockets.ts';

test('IdleSweeper closes a connection that moved no bytes for the idle time, and keeps one that moves', async (t) => {
  const sweeper = new IdleSweeper(200);
  t.after(() => sweeper.close());
  const [quietClient, quiet] = await tcpPair(t);
  const [busyClient, busy] = await tcpPair(t);
  quietClient.on('error', () => {});
  busy.on('data', () => {});
  sweeper.watch(quiet);
  sweeper.watch(busy);
  const started = performance.now();
  const tick = setInterval(() => busyClient.write('x'), 50);
  t.after(() => clearInterval(tick));
  await waitFor(() => quiet.destroyed, 'the quiet connection to be closed', 5000);
  const after = performance.now() - started;
  assert.ok(after >= 200, `closed after ${after.toFixed(0)} ms, not before the idle time`);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(busy.destroyed, false, 'a connection moving bytes every 50 ms stays open');
});

test('IdleSweeper with 0 never closes anything (as socket.setTimeout(0))', async (t) => {
  const sweeper = new IdleSweeper(0);
  t.after(() => sweeper.close());
  const [, s] = await tcpPair(t);
  sweeper.watch(s);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(s.destroyed, false);
});
