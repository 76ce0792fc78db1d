import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyFramer } from './body-framer.ts';
import { closingResponseHead, fieldLineColon, headEnd, parseRequestHead, parseResponseHead } from './h1-head.ts';

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
    'GET / HTTP/1.1\r\nConnection\t: close\r\n\r\n',
    'GET / HTTP/2.0\r\n\r\n',
    'GET /\r\n\r\n',
    'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n',
    // A server may ignore chunked on HTTP/1.0 (Go's does) and read a "chunk" as the next request.
    'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
    'POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n',
  ]) assert.ok('error' in req(bad), JSON.stringify(bad));
});

test('Connection is read as whole tokens, and close in any line wins (request and response)', () => {
  const notClose = req('GET / HTTP/1.1\r\nConnection: x-closed\r\n\r\n');
  assert.ok(!('error' in notClose) && !notClose.close && notClose.drop === undefined, 'x-closed is not close');
  const both = req('GET / HTTP/1.1\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n');
  assert.ok(!('error' in both) && both.close, 'close, then keep-alive: still close');
  const res = (text: string): ReturnType<typeof parseResponseHead> => {
    const b = Buffer.from(text, 'latin1');
    return parseResponseHead(b, headEnd(b), 'GET');
  };
  const r1 = res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: x-closed\r\n\r\n');
  assert.ok(!('error' in r1) && !r1.close && !r1.saysClose);
  const r2 = res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n');
  assert.ok(!('error' in r2) && r2.close && r2.saysClose, 'the upstream said close: not reused');
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
    const f = new BodyFramer(64 * 1024);
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
  const f = new BodyFramer(64 * 1024);
  f.reset('chunked', 0);
  assert.equal(f.consume(Buffer.from('zz\r\n'), 0), -1);
  f.reset('length', 4);
  assert.equal(f.consume(Buffer.from('abcdef'), 0), 4);
  assert.ok(f.done);
  f.reset('chunked', 0);
  assert.equal(f.consume(Buffer.from('fffffffffffff\r\n'), 0), -1, 'more than 12 hex digits');
  // After the size, whitespace may lead only to an extension or the end of the line: a
  // request line hidden there is refused, not skipped as an "extension".
  f.reset('chunked', 0);
  assert.equal(f.consume(Buffer.from('0 /admin HTTP/1.1\r\n'), 0), -1);
  for (const ok of ['3 ;name=v\r\nabc\r\n0\r\n\r\n', '3  \r\nabc\r\n0\t\r\n\r\n', '3;x\r\nabc\r\n0\r\n\r\n']) {
    f.reset('chunked', 0);
    const b = Buffer.from(ok);
    assert.equal(f.consume(b, 0), b.length, JSON.stringify(ok));
    assert.ok(f.done, JSON.stringify(ok));
  }
});

test('parseRequestHead() matches header names in any case and trims values', () => {
  const h = req('POST / HTTP/1.1\r\nX-Other: 1\r\nhOsT:   a:1  \r\nCONTENT-length:3\r\nconnection: Close\r\n\r\n', ['x-other']);
  assert.ok(!('error' in h));
  // The `connection: Close` line is dropped too: the proxy keeps its upstream connection.
  assert.deepEqual([h.host, h.body, h.length, h.close, h.drop, h.connection], ['a:1', 'length', 3, true, [17, 29, 62, 81], undefined]);
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

/** The forwarded head as the session builds it: `drop` ranges removed, `connection` added before the blank line. */
function forwarded(text: string, drop: string[] = []): string {
  const h = req(text, drop);
  assert.ok(!('error' in h));
  let out = '';
  let from = 0;
  for (let i = 0; i < (h.drop?.length ?? 0); i += 2) {
    out += text.slice(from, h.drop![i]);
    from = h.drop![i + 1]!;
  }
  return out + text.slice(from, text.length - 2) + (h.connection ?? '') + '\r\n';
}

test('A client\'s Connection: close is not forwarded: the proxy keeps its upstream connection', () => {
  assert.equal(forwarded('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  // Other tokens keep their meaning; ranges stay in order with the proxy's own drops.
  assert.equal(
    forwarded('GET / HTTP/1.1\r\nConnection: Close, X-Trace\r\nL5d-Client-Id: forged\r\nX-Trace: 1\r\n\r\n', ['l5d-client-id']),
    'GET / HTTP/1.1\r\nX-Trace: 1\r\nConnection: x-trace\r\n\r\n',
  );
  const h = req('GET / HTTP/1.1\r\nX: 1\r\nConnection: close\r\nL5d-Client-Id: f\r\n\r\n', ['l5d-client-id', 'x']);
  assert.ok(!('error' in h) && h.close);
  assert.deepEqual(h.drop, [16, 22, 22, 41, 41, 59]);
  // Keep-alive requests are forwarded untouched.
  const k = req('GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n');
  assert.ok(!('error' in k) && !k.close && k.drop === undefined && k.connection === undefined);
});

test('An HTTP/1.0 request without keep-alive is forwarded with Connection: keep-alive; an upgrade is left alone', () => {
  assert.equal(forwarded('GET / HTTP/1.0\r\nHost: a\r\n\r\n'), 'GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n');
  assert.equal(forwarded('GET / HTTP/1.0\r\nConnection: close\r\n\r\n'), 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const ka = req('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  assert.ok(!('error' in ka) && !ka.close && ka.connection === undefined && ka.drop === undefined);
  const text = 'GET /ws HTTP/1.1\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n';
  assert.equal(forwarded(text), text);
  // `close` as a token, not a substring.
  const x = req('GET / HTTP/1.1\r\nConnection: x-closed\r\n\r\n');
  assert.ok(!('error' in x) && x.drop === undefined && x.connection === undefined);
});

test('closingResponseHead() replaces Connection and Keep-Alive with Connection: close', () => {
  const text = 'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Trace\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok';
  const b = Buffer.from(text, 'latin1');
  assert.equal(closingResponseHead(b, headEnd(b)).toString('latin1'), 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close, X-Trace\r\n\r\n');
  const bare = Buffer.from('HTTP/1.0 204 No Content\r\n\r\n', 'latin1');
  assert.equal(closingResponseHead(bare, bare.length).toString('latin1'), 'HTTP/1.0 204 No Content\r\nConnection: close\r\n\r\n');
  const r = (t: string) => parseResponseHead(Buffer.from(t, 'latin1'), t.length, 'GET') as { saysClose: boolean; close: boolean };
  assert.deepEqual([r('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').saysClose, r('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').saysClose], [true, false]);
});

test('fieldLineColon() is the one field-line rule: a token name, the colon right after it, no NUL, CR or LF in the value', () => {
  const colon = (line: string): number => fieldLineColon(Buffer.from(line, 'latin1'), 0, line.length);
  for (const ok of ['Host: a', 'x-sum:', "!#$%&'*+-.^_`|~09AZaz: v", 'Expires: Thu, 01 Dec 1994 16:00:00 GMT', 'x:\tv\t', 'x: caf\xe9 \x7f\x01']) {
    assert.equal(colon(ok), ok.indexOf(':'), JSON.stringify(ok));
  }
  for (const bad of ['Host : a', 'Host\t: a', ' folded', '\tfolded: x', ': empty name', 'no colon', 'x y: a', 'x(y): a', 'x"y": a', 'x/y: a', 'x@y: a',
    'caf\xe9: a', 'x: a\x00b', 'x: a\rb', 'x: a\nb', 'x\x00: a', '']) {
    assert.equal(colon(bad), -1, JSON.stringify(bad));
  }
  // Only the range [pos, e) is read: the CRLF after a head line is not part of it.
  assert.equal(fieldLineColon(Buffer.from('GET\r\nHost: a\r\n'), 5, 12), 9);
});

test('Request and response heads refuse the field lines the rule refuses (a bare CR or LF, a NUL, a name that is not a token)', () => {
  const res = (text: string) => {
    const b = Buffer.from(text, 'latin1');
    return parseResponseHead(b, headEnd(b), 'GET');
  };
  for (const line of ['X: a\rTransfer-Encoding: chunked', 'X: a\nTransfer-Encoding: chunked', 'X: a\x00', 'X Y: a', 'X[1]: a']) {
    assert.ok('error' in req(`POST / HTTP/1.1\r\nHost: a\r\n${line}\r\nContent-Length: 1\r\n\r\n`), JSON.stringify(line));
    assert.ok('error' in res(`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 1\r\n\r\n`), JSON.stringify(line));
  }
  assert.ok(!('error' in req('GET / HTTP/1.1\r\nHost: a\r\nX-Latin: caf\xe9\r\n\r\n')), 'obs-text in a value is allowed');
});

test('The request line follows the byte rule too: a token method, a target of visible bytes (no bare LF, CR or space)', () => {
  for (const bad of [
    // A bare LF ends the line for lenient servers (Go's): two requests where the proxy parsed one.
    'GET /public HTTP/1.1\nHost: a\n\nGET /admin HTTP/1.1\nl5d-client-id: admin\nX: y HTTP/1.1\r\n\r\n',
    'GET /a\rb HTTP/1.1\r\n\r\n',
    'GET /a b HTTP/1.1\r\n\r\n',
    'GET /a\x00 HTTP/1.1\r\n\r\n',
    'GET /a\x7f HTTP/1.1\r\n\r\n',
    'G(T / HTTP/1.1\r\n\r\n',
  ]) assert.deepEqual(req(bad), { error: 'malformed' }, JSON.stringify(bad));
  const lower = req('get /x?y=%20 HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.ok(!('error' in lower) && lower.method === 'get' && lower.target === '/x?y=%20');
});

test('Transfer-Encoding counts as chunked only when chunked is its last coding, once; values lose only spaces and tabs', () => {
  for (const bad of [
    'POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n',
    'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
    'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\xa0\r\n\r\n',
    'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nContent-Length: \x0b5\r\n\r\n',
    'POST / HTTP/1.1\r\nContent-Length: 5\x0c\r\n\r\n',
  ]) assert.deepEqual(req(bad), { error: 'malformed' }, JSON.stringify(bad));
  const ok = req('POST / HTTP/1.1\r\nTransfer-Encoding: gzip ,\tChunked \r\n\r\n');
  assert.ok(!('error' in ok) && ok.body === 'chunked');
  const len = req('POST / HTTP/1.1\r\nContent-Length:\t 5 \t\r\n\r\n');
  assert.ok(!('error' in len) && len.body === 'length' && len.length === 5);
  const b = (text: string): ReturnType<typeof parseResponseHead> => parseResponseHead(Buffer.from(text, 'latin1'), headEnd(Buffer.from(text, 'latin1')), 'GET');
  const notChunked = b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n');
  assert.ok(!('error' in notChunked) && notChunked.body === 'eof', 'a response whose last coding is not chunked is delimited by close');
});

test('A response\'s reason phrase may hold tabs and visible bytes, never a bare CR or LF', () => {
  const b = (text: string): ReturnType<typeof parseResponseHead> => parseResponseHead(Buffer.from(text, 'latin1'), headEnd(Buffer.from(text, 'latin1')), 'GET');
  assert.deepEqual(b('HTTP/1.1 200 OK\nSet-Cookie: x=1\r\ncontent-length: 0\r\n\r\n'), { error: 'malformed' });
  assert.deepEqual(b('HTTP/1.1 200 O\rK\r\ncontent-length: 0\r\n\r\n'), { error: 'malformed' });
  const ok = b('HTTP/1.1 200 Fine\tand dandy \xe9\r\ncontent-length: 0\r\n\r\n');
  assert.ok(!('error' in ok) && ok.status === 200);
});
