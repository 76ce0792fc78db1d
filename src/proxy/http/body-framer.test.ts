import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyFramer } from './body-framer.ts';

/** Feeds `text` to a fresh chunked framer split at `split` (0: whole); the bytes it claimed, or -1, and its error. */
function feed(text: string, split = 0, max = 1024): { n: number; done: boolean; error: string } {
  const f = new BodyFramer(max);
  f.reset('chunked', 0);
  const all = Buffer.from(text, 'latin1');
  const parts = split === 0 ? [all] : [all.subarray(0, split), all.subarray(split)];
  let n = 0;
  for (const p of parts) {
    if (f.done) break;
    const k = f.consume(p, 0);
    if (k < 0) return { n: -1, done: f.done, error: f.error };
    n += k;
  }
  return { n, done: f.done, error: f.error };
}

const TRAILERS = '0\r\ngrpc-status: 0\r\ngrpc-message: OK\r\nExpires: Thu, 01 Dec 1994 16:00:00 GMT\r\nx-sum:\tab c \r\n\r\n';

test('BodyFramer takes a valid trailer section however the bytes are split, and stops at its end', () => {
  const body = `4\r\nping\r\n${TRAILERS}`;
  const next = 'GET / HTTP/1.1\r\n\r\n';
  for (let split = 0; split < body.length + next.length; split++) {
    const r = feed(body + next, split);
    assert.deepEqual([r.n, r.done], [body.length, true], `split at ${split}`);
  }
  // Without trailers, and with the bare-LF blank line chunk lines allow.
  assert.deepEqual(feed('0\r\n\r\n'), { n: 5, done: true, error: '' });
  assert.deepEqual(feed('0\r\n\n'), { n: 4, done: true, error: '' });
});

test('BodyFramer refuses a malformed trailer line wherever the bytes are split', () => {
  for (const bad of ['x-sum : 1\r\n', 'x-sum\t: 1\r\n', 'x-sum: 1\r\n  2\r\n', 'x sum: 1\r\n', 'x(sum): 1\r\n', ': 1\r\n', 'x-sum\r\n',
    'x-sum: 1\x002\r\n', 'x-sum: 1\r2\r\n', 'x-sum: 1\n', '\rx-sum: 1\r\n', 'ok: 1\r\n\rx: 2\r\n']) {
    const text = `3\r\nabc\r\n0\r\n${bad}\r\n`;
    for (let split = 0; split < text.length; split++) {
      const r = feed(text, split);
      assert.equal(r.n, -1, `${JSON.stringify(bad)} split at ${split}`);
      assert.equal(r.error, 'malformed trailer line', JSON.stringify(bad));
    }
  }
});

test('BodyFramer bounds the trailer section, lines and CRLFs, by its limit', () => {
  const line = `x: ${'a'.repeat(95)}\r\n`; // 100 bytes
  assert.equal(feed(`0\r\n${line}${line}\r\n`, 0, 200).n, 205, 'two 100-byte lines fit 200');
  const over = feed(`0\r\n${line}${line}x\r\n\r\n`, 0, 200);
  assert.deepEqual([over.n, over.error], [-1, 'trailer section too large']);
  // One long line arriving in pieces is bounded as it grows, not only at its end.
  const f = new BodyFramer(200);
  f.reset('chunked', 0);
  assert.equal(f.consume(Buffer.from('0\r\nx: '), 0), 6);
  assert.equal(f.consume(Buffer.alloc(150, 0x61), 0), 150);
  assert.equal(f.consume(Buffer.alloc(150, 0x61), 0), -1);
  assert.equal(f.error, 'trailer section too large');
});

test('BodyFramer starts each body afresh: a trailer line cut off by reset does not leak into the next', () => {
  const f = new BodyFramer(1024);
  f.reset('chunked', 0);
  assert.equal(f.consume(Buffer.from('0\r\nx-sum: 1'), 0), 11);
  f.reset('chunked', 0);
  const next = Buffer.from(TRAILERS, 'latin1');
  assert.equal(f.consume(next, 0), next.length);
  assert.ok(f.done);
  // The malformed-framing reasons the session puts into l5d-proxy-error.
  f.reset('chunked', 0);
  assert.equal(f.consume(Buffer.from('zz\r\n'), 0), -1);
  assert.equal(f.error, 'malformed chunk size');
});
