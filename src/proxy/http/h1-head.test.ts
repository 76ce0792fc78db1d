import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyFramer } from './body-framer.ts';
import { headEnd, parseRequestHead, parseResponseHead } from './h1-head.ts';

function req(text: string, drop: string[] = []): ReturnType<typeof parseRequestHead> {
  const b = Buffer.from(text, 'latin1');
  return parseRequestHead(b, headEnd(b), drop);
}

test('parseRequestHead() reads method, target, framing and connection semantics', () => {
  const h = req('POST http://a:8080/x HTTP/1.1\r\nHost: a:8080\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n');
  assert.ok(!('error' in h));
  assert.deepEqual([h.method, h.target, h.minor, h.host, h.body, h.length, h.close], ['POST', 'http://a:8080/x', 1, 'a:8080', 'length', 12, false]);
  const c = req('PUT / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n');
  assert.ok(!('error' in c) && c.body === 'chunked');
  const old = req('GET / HTTP/1.0\r\n\r\n');
  assert.ok(!('error' in old) && old.close);
  const up = req('GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  assert.ok(!('error' in up) && up.upgrade);
});

test('parseRequestHead() refuses smuggling shapes: CL with chunked, conflicting CLs, folded lines, bad versions', () => {
  for (const bad of [
    'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n',
    'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
    'GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n',
    'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
    'GET / HTTP/2.0\r\n\r\n',
    'GET /\r\n\r\n',
    'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n',
  ]) assert.ok('error' in req(bad), JSON.stringify(bad));
});

test('parseRequestHead() records the byte ranges of headers to drop', () => {
  const text = 'GET / HTTP/1.1\r\nL5d-Client-Id: forged\r\nHost: a\r\n\r\n';
  const h = req(text, ['l5d-client-id']);
  assert.ok(!('error' in h));
  assert.equal(text.slice(h.drop![0], h.drop![1]), 'L5d-Client-Id: forged\r\n');
});

test('parseResponseHead() knows which responses have no body', () => {
  const r = (text: string, method = 'GET') => {
    const b = Buffer.from(text, 'latin1');
    return parseResponseHead(b, headEnd(b), method);
  };
  assert.equal((r('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD') as { body: string }).body, 'none');
  assert.equal((r('HTTP/1.1 204 No Content\r\n\r\n') as { body: string }).body, 'none');
  assert.equal((r('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n') as { body: string }).body, 'none');
  const eof = r('HTTP/1.1 200 OK\r\n\r\n') as { body: string; close: boolean };
  assert.deepEqual([eof.body, eof.close], ['eof', true]);
  assert.equal((r('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n') as { body: string }).body, 'chunked');
});

test('BodyFramer finds the end of a chunked body however the bytes are split', () => {
  const body = Buffer.from('5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n', 'latin1');
  const next = Buffer.from('GET / HTTP/1.1\r\n\r\n', 'latin1');
  const all = Buffer.concat([body, next]);
  for (let split = 1; split < all.length; split++) {
    const f = new BodyFramer();
    f.reset('chunked', 0);
    const a = all.subarray(0, split);
    const n1 = f.consume(a, 0);
    let consumed = n1;
    if (!f.done) consumed += f.consume(all.subarray(split), 0);
    assert.equal(consumed, body.length, `split at ${split}`);
    assert.ok(f.done);
  }
});

test('BodyFramer rejects malformed chunk sizes and counts Content-Length exactly', () => {
  const f = new BodyFramer();
  f.reset('chunked', 0);
  assert.equal(f.consume(Buffer.from('zz\r\n'), 0), -1);
  f.reset('length', 4);
  assert.equal(f.consume(Buffer.from('abcdef'), 0), 4);
  assert.ok(f.done);
  f.reset('chunked', 0);
  assert.equal(f.consume(Buffer.from('fffffffffffff\r\n'), 0), -1, 'more than 12 hex digits');
});

test('parseRequestHead() matches header names in any case and trims values', () => {
  const h = req('POST / HTTP/1.1\r\nX-Other: 1\r\nhOsT:   a:1  \r\nCONTENT-length:3\r\nconnection: Close\r\n\r\n', ['x-other']);
  assert.ok(!('error' in h));
  assert.deepEqual([h.host, h.body, h.length, h.close, h.drop], ['a:1', 'length', 3, true, [17, 29]]);
});

test('parseResponseHead() reads the three-digit status and refuses anything else', () => {
  const r = (text: string) => {
    const b = Buffer.from(text, 'latin1');
    return parseResponseHead(b, headEnd(b), 'GET');
  };
  assert.equal((r('HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n') as { status: number }).status, 404);
  assert.equal((r('HTTP/1.0 503 Service Unavailable\r\nconnection: keep-alive\r\ncontent-length: 1\r\n\r\n') as { status: number; close: boolean }).close, false);
  for (const bad of ['HTTP/1.1 2x0 OK\r\n\r\n', 'HTTP/1.1 099 Low\r\n\r\n', 'HTTP/1.1 2000 OK\r\n\r\n', 'HTTP/1.1 200 OK\r\nBad : x\r\n\r\n']) {
    assert.ok('error' in r(bad), JSON.stringify(bad));
  }
});
