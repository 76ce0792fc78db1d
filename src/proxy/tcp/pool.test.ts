import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConnectionPool, type Opener, type PooledConnection, type PoolOwner } from './pool.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A connected-looking stream that discards writes. */
function stream(): Duplex {
  return new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
}

test('a pooled connection does not keep the borrower that opened it alive, even when the opener keeps its callback', async (t) => {
  const pool = new ConnectionPool({ idleMs: 60_000 });
  t.after(() => pool.destroy());
  // As the mesh opener does: a listener that lives as long as the socket holds the
  // scope in which the pool's callback was handed over.
  const open: Opener = (cb) => {
    const s = stream();
    s.on('error', () => void cb);
    queueMicrotask(() => cb(null, s));
  };
  let conn: PooledConnection | undefined;
  const borrow = (): WeakRef<PoolOwner> => {
    const owner: PoolOwner = { onUpData() {}, onUpEnd() {}, onUpDrain() {} };
    pool.acquire('k', open, owner, (err, c) => {
      assert.equal(err, null);
      conn = c;
    });
    return new WeakRef(owner);
  };
  const ref = borrow();
  await new Promise((r) => setImmediate(r));
  assert.ok(conn !== undefined, 'the connection opened');
  conn.release();
  for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  assert.equal(ref.deref(), undefined, 'the first borrower was collected while its connection stays pooled');
  // The connection is still there for the next borrower.
  let again: PooledConnection | undefined;
  pool.acquire('k', open, { onUpData() {}, onUpEnd() {}, onUpDrain() {} }, (_e, c) => { again = c; });
  assert.equal(again, conn);
});

test('a pool answers a failed open with its error, once', async (t) => {
  const pool = new ConnectionPool({ idleMs: 60_000 });
  t.after(() => pool.destroy());
  const open: Opener = (cb) => queueMicrotask(() => cb(new Error('refused')));
  const answers: Array<Error | null> = [];
  pool.acquire('k', open, { onUpData() {}, onUpEnd() {}, onUpDrain() {} }, (err) => { answers.push(err); });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(answers.map((e) => e?.message), ['refused']);
});
