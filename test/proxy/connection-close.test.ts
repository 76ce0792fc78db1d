import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { listen, metrics, request, sample, startMesh, waitFor, type Mesh } from './harness.ts';

/** Two proxies in front of an app that counts the connections it accepts. */
async function mesh(t: TestContext, appOptions: { closeEvery?: number } = {}): Promise<{ m: Mesh; port: number; appConnections: () => number }> {
  let accepted = 0;
  let served = 0;
  const app = http.createServer((_req, res) => {
    served++;
    if (appOptions.closeEvery !== undefined && served % appOptions.closeEvery === 0) res.setHeader('connection', 'close');
    res.end('ok');
  });
  app.on('connection', () => { accepted++; });
  const appPort = await listen(t, app);
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`web.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`web.test:${appPort}`],
    forwardPort: appPort,
  });
  return { m, port: m.a.ports.targets[0]!, appConnections: () => accepted };
}

/** Sends `head` on a new connection and reads until the proxy closes it: the whole response. */
function exchange(port: number, head: string): Promise<{ text: string; closedByProxy: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(head));
    const chunks: Buffer[] = [];
    let ended = false;
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => { ended = true; });
    s.on('error', reject);
    s.on('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByProxy: ended }));
  });
}

/** The mesh connections hop A has opened to hop B. */
async function meshOpened(m: Mesh): Promise<number> {
  return sample(await metrics(m.a), 'tcp_open_total', 'direction="outbound"', 'peer="dst"', 'tls="true"');
}

test('Requests with Connection: close reuse one mesh connection and one application connection; each client connection is closed', async (t) => {
  const { m, port, appConnections } = await mesh(t);
  for (let i = 0; i < 5; i++) {
    const r = await exchange(port, 'GET / HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.match(r.text, /\r\nConnection: close\r\n/i, 'the response says close');
    assert.doesNotMatch(r.text, /keep-alive/i);
    assert.ok(r.text.endsWith('\r\n\r\nok'), r.text);
    assert.ok(r.closedByProxy, 'the proxy closed the client connection');
  }
  // HTTP/1.0 without keep-alive: closed for the client, kept between the proxies.
  const old = await exchange(port, 'GET / HTTP/1.0\r\nHost: web.test\r\n\r\n');
  assert.match(old.text, /^HTTP\/1\.1 200 /);
  assert.match(old.text, /\r\nConnection: close\r\n/i);
  assert.ok(old.text.endsWith('\r\n\r\nok') && old.closedByProxy, old.text);
  assert.equal(await meshOpened(m), 1, 'hop A opened one mesh connection');
  assert.equal(appConnections(), 1, 'hop B opened one application connection');
  const b = await metrics(m.b);
  assert.equal(sample(b, 'request_total', 'direction="inbound"'), 6);
  await waitFor(async () => sample(await metrics(m.a), 'tcp_open_connections', 'peer="src"') === 0, 'the client connections to be counted closed');
});

test('A pooling client that sends Connection: close on some requests never reuses a connection the proxy closed', async (t) => {
  const { m, port, appConnections } = await mesh(t);
  // Node's agent pools a socket after a request that said close if the response says keep-alive.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  t.after(() => agent.destroy());
  let n = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let i = 0; i < 30; i++) {
      const close = n++ % 2 === 0;
      const r = await request({ port, path: '/', agent, ...(close ? { headers: { connection: 'close' } } : {}) });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'ok');
      if (close) assert.equal(r.headers['connection'], 'close');
    }
  }));
  assert.ok(await meshOpened(m) <= 4, 'at most one mesh connection per concurrent request');
  assert.ok(appConnections() <= 4);
});

test('An upstream that closes still closes the mesh connection, and the client is told', async (t) => {
  const { m, port, appConnections } = await mesh(t, { closeEvery: 2 });
  for (let i = 0; i < 4; i++) {
    const r = await exchange(port, 'GET / HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n');
    assert.match(r.text, /\r\nConnection: close\r\n/i);
    assert.ok(r.text.endsWith('\r\n\r\nok') && r.closedByProxy, r.text);
  }
  // Responses 2 and 4 said close: the connections that carried them were not reused.
  assert.equal(appConnections(), 2);
  assert.equal(await meshOpened(m), 2);
  // A keep-alive client gets the upstream's close too (the session closes its connection).
  const ka = await exchange(port, 'GET / HTTP/1.1\r\nHost: web.test\r\n\r\nGET / HTTP/1.1\r\nHost: web.test\r\n\r\n');
  assert.equal(ka.text.match(/HTTP\/1\.1 200/g)?.length, 2, ka.text);
  assert.equal(ka.text.match(/Connection: close/gi)?.length, 1, 'only the second response, after which the proxy closes');
  assert.ok(ka.closedByProxy);
});
