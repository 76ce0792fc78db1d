import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { listen, metrics, request, sample, startMesh, waitFor } from './harness.ts';

/** An application that echoes what it saw: method, path, l5d-client-id, body length. */
function echoApp(): http.Server {
  return http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => { n += c.length; });
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, url: req.url, clientId: req.headers['l5d-client-id'] ?? null, bytes: n });
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(body.slice(0, 5));
        res.end(body.slice(5));
        return;
      }
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': 1024 * 1024 });
        res.end(Buffer.alloc(1024 * 1024, 0x61));
        return;
      }
      res.writeHead(req.url === '/fail' ? 503 : 200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
}

test('HTTP/1 through outbound and inbound proxies is mutually authenticated and the app sees l5d-client-id', async (t) => {
  const app = echoApp();
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const port = m.a.ports.targets[0]!;
  for (let i = 0; i < 5; i++) {
    const r = await request({ port, path: `/r${i}`, agent, headers: { 'l5d-client-id': 'spoofed' } });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { method: 'GET', url: `/r${i}`, clientId: m.aLeaf.identity, bytes: 0 });
  }
  const am = await metrics(m.a);
  const bm = await metrics(m.b);
  assert.equal(sample(am, 'request_total', 'direction="outbound"', 'tls="true"', `server_id="${m.bLeaf.identity}"`), 5);
  assert.equal(sample(am, 'response_total', 'direction="outbound"', 'status_code="200"', 'classification="success"', 'tls="true"'), 5);
  assert.equal(sample(bm, 'request_total', 'direction="inbound"', 'tls="true"', `client_id="${m.aLeaf.identity}"`), 5);
  assert.equal(sample(bm, 'response_latency_ms_count', 'direction="inbound"', 'status_code="200"'), 5);
  // Five requests, one mesh connection: the pool reuses it.
  assert.equal(sample(am, 'tcp_open_total', 'direction="outbound"', 'peer="dst"', 'tls="true"'), 1);
  assert.equal(sample(am, 'protocol_detect_total', 'direction="outbound"', 'outcome="http1"'), 1);
  assert.equal(sample(bm, 'protocol_detect_total', 'direction="inbound"', 'outcome="mesh_tls"'), 1);
});

test('HTTP/1 bodies cross the mesh intact: chunked, large, POST with 100-continue, and 5xx classified as failure', async (t) => {
  const app = echoApp();
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
  });
  const port = m.a.ports.targets[0]!;
  const chunked = await request({ port, path: '/chunked' });
  assert.equal(chunked.headers['transfer-encoding'], 'chunked');
  assert.equal(JSON.parse(chunked.body).url, '/chunked');
  const big = await request({ port, path: '/big' });
  assert.equal(big.body.length, 1024 * 1024);
  const upload = await request({ port, path: '/up', method: 'POST', body: Buffer.alloc(3 * 1024 * 1024, 0x62), headers: { expect: '100-continue' } });
  assert.equal(JSON.parse(upload.body).bytes, 3 * 1024 * 1024);
  const chunkedUpload = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/cu', method: 'PUT', agent: false }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => { s += c.toString(); });
      res.on('end', () => resolve(s));
    });
    req.on('error', reject);
    req.write('abc');
    req.write('defgh');
    req.end();
  });
  assert.equal(JSON.parse(chunkedUpload).bytes, 8);
  const fail = await request({ port, path: '/fail' });
  assert.equal(fail.status, 503);
  assert.equal(fail.headers['l5d-proxy-error'], undefined, 'an application error is not a proxy error');
  assert.equal(sample(await metrics(m.a), 'response_total', 'status_code="503"', 'classification="failure"'), 1);
});

test('The outbound listener is an HTTP proxy: absolute-form requests route by authority', async (t) => {
  const app = echoApp();
  const appPort = await listen(t, app);
  const m = await startMesh(t, { destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`] });
  const r = await request({ port: m.a.ports.outbound, path: `http://web.test:${appPort}/via-proxy?q=1`, headers: { host: `web.test:${appPort}` } });
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { method: 'GET', url: '/via-proxy?q=1', clientId: m.aLeaf.identity, bytes: 0 });
});

test('An upgrade (WebSocket-style) is passed through as a tunnel after 101', async (t) => {
  const app = http.createServer();
  app.on('upgrade', (_req, socket: net.Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
  });
  const appPort = await listen(t, app);
  const m = await startMesh(t, { destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`], targets: [`web.test:${appPort}`] });
  const sock = net.connect(m.a.ports.targets[0]!, '127.0.0.1');
  t.after(() => sock.destroy());
  let got = '';
  sock.on('data', (d: Buffer) => { got += d.toString(); });
  sock.write('GET /ws HTTP/1.1\r\nHost: web.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
  await waitFor(() => got.includes('\r\n\r\n'), '101 response');
  assert.match(got, /^HTTP\/1.1 101/);
  sock.write('hello tunnel');
  await waitFor(() => got.endsWith('HELLO TUNNEL'), 'echo through the tunnel');
});

test('A non-meshed destination is reached in plain text and labelled tls="no_identity"', async (t) => {
  const app = echoApp();
  const appPort = await listen(t, app);
  const m = await startMesh(t, { destinations: () => [`plain.test:${appPort}=127.0.0.1:${appPort}`], targets: [`plain.test:${appPort}`] });
  const r = await request({ port: m.a.ports.targets[0]!, path: '/p' });
  assert.equal(JSON.parse(r.body).clientId, null);
  const am = await metrics(m.a);
  assert.equal(sample(am, 'request_total', 'direction="outbound"', 'tls="no_identity"'), 1);
  assert.equal(sample(am, 'tcp_open_total', 'peer="dst"', 'tls="no_identity"'), 1);
});

test('A non-meshed client reaches a meshed server in plain text, without a forged l5d-client-id', async (t) => {
  const app = echoApp();
  const appPort = await listen(t, app);
  const m = await startMesh(t, { destinations: () => [], forwardPort: appPort });
  const r = await request({ port: m.b.ports.inbound, path: '/direct', headers: { 'l5d-client-id': 'forged.identity' } });
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).clientId, null);
  assert.equal(sample(await metrics(m.b), 'request_total', 'direction="inbound"', 'tls="no_identity"'), 1);
});

test('Connect errors and missing endpoints answer with l5d-proxy-error', async (t) => {
  const closed = net.createServer();
  const deadPort = await listen(t, closed);
  closed.close();
  const m = await startMesh(t, { destinations: (bIn, bId) => [`dead.test:80=127.0.0.1:${deadPort}`, `web.test:1=127.0.0.1:${bIn}#${bId}`], targets: ['dead.test:80'] });
  const r = await request({ port: m.a.ports.targets[0]!, path: '/' });
  assert.equal(r.status, 503);
  assert.match(String(r.headers['l5d-proxy-error']), /connect/);
});

test('A request retried after a stale pooled connection, whose retry fails to connect, is counted once in request_total', async (t) => {
  // An origin that answers the first request on a connection, then stops listening and
  // drops the connection when the second request arrives: the proxy's pooled connection
  // is stale, and the retry on a fresh one is refused.
  const server = net.createServer();
  const conns = new Set<net.Socket>();
  server.on('connection', (s) => {
    conns.add(s);
    let seen = 0;
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        if (++seen === 1) {
          s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
          server.close();
        } else {
          s.destroy();
        }
      }
    });
    s.on('error', () => {});
  });
  const port = await listen(t, server);
  t.after(() => { for (const s of conns) s.destroy(); });
  const m = await startMesh(t, { destinations: () => [`stale.test:${port}=127.0.0.1:${port}`], targets: [`stale.test:${port}`] });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const first = await request({ port: m.a.ports.targets[0]!, path: '/1', agent });
  assert.equal(first.status, 200);
  const second = await request({ port: m.a.ports.targets[0]!, path: '/2', agent });
  assert.equal(second.status, 503);
  assert.match(String(second.headers['l5d-proxy-error']), /connect/);
  const am = await metrics(m.a);
  assert.equal(sample(am, 'request_total', 'direction="outbound"', `authority="stale.test:${port}"`), 2);
  assert.equal(sample(am, 'response_total', 'direction="outbound"', 'status_code="200"'), 1);
  assert.equal(sample(am, 'response_total', 'direction="outbound"', 'status_code="503"'), 1);
});
