/**
 * The alternative the proxy did NOT take, kept to re-measure the decision: HTTP/1
 * carried between two hops over one multiplexed HTTP/2 mTLS session (what Linkerd
 * does), built the straightforward Node way.
 *
 *   node bench/h1-over-h2-hop.ts a LISTEN B_PORT KEY CERT CA SERVERNAME   (HTTP/1 in, h2 out)
 *   node bench/h1-over-h2-hop.ts b LISTEN ORIGIN_PORT KEY CERT CA         (h2 in, HTTP/1 to origin)
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';

const [mode, listen, target, keyFile, certFile, caFile, servername] = process.argv.slice(2);
const key = readFileSync(keyFile!);
const cert = readFileSync(certFile!);
const ca = readFileSync(caFile!);
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

if (mode === 'a') {
  let session: http2.ClientHttp2Session | undefined;
  const get = (): http2.ClientHttp2Session => {
    if (session === undefined || session.closed || session.destroyed) {
      session = http2.connect(`https://127.0.0.1:${target}`, { key, cert, ca, servername, minVersion: 'TLSv1.3' });
      session.on('error', () => { session = undefined; });
    }
    return session;
  };
  http.createServer((req, res) => {
    const headers: http2.OutgoingHttpHeaders = { ':method': req.method, ':path': req.url, ':authority': req.headers.host ?? 'x' };
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
    const s = get().request(headers, { endStream: req.method === 'GET' || req.method === 'HEAD' });
    if (req.method !== 'GET' && req.method !== 'HEAD') req.pipe(s);
    s.on('response', (h) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) out[k] = v;
      res.writeHead(Number(h[':status']), out);
      s.pipe(res);
    });
    s.on('error', () => res.destroy());
  }).listen(Number(listen), '127.0.0.1');
} else {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  http2.createSecureServer({ key, cert, ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith(':')) headers[k] = v;
    const up = http.request({ host: '127.0.0.1', port: Number(target), method: req.method, path: req.url, headers, agent }, (r) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(r.headers)) if (!HOP.has(k)) out[k] = v;
      res.writeHead(r.statusCode ?? 502, out);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }).listen(Number(listen), '127.0.0.1');
}
process.on('SIGTERM', () => process.exit(0));
