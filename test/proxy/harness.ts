/**
 * Two real proxies in this process (A: the client's, B: the server's) with openssl
 * certificates, on 127.0.0.1 with ephemeral ports; everything is torn down by
 * `t.after`, even when the test fails.
 */
import type { TestContext } from 'node:test';
import http from 'node:http';
import net from 'node:net';
import { fileCredentials, Logger, PROXY_DEFAULTS, startProxy, type FileCredentials, type ProxyConfig, type RunningProxy } from '../../src/proxy/index.ts';
import { TestPki, type LeafFiles } from './pki-fixture.ts';

/** Polls `cond` every 10 ms until it holds or `timeoutMs` passes (then throws `what`). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Listens `server` on 127.0.0.1 with an ephemeral port and closes it after the test. */
export async function listen(t: TestContext, server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    (server as http.Server).closeAllConnections?.();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** The metrics text of a proxy. */
export async function metrics(p: RunningProxy): Promise<string> {
  return (await request({ port: p.ports.admin, path: '/metrics' })).body;
}

/** Sum of the samples of `name` whose labels contain every one of `labels` (`k="v"`). */
export function sample(text: string, name: string, ...labels: string[]): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels.every((l) => line.includes(l))) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/** A minimal HTTP/1 request helper (node:http client). */
export async function request(o: { port: number; path?: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: o.port, path: o.path ?? '/', method: o.method ?? 'GET', headers: o.headers, agent: o.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A mesh of two proxies: A (identity `client`) sends to B (identity `web`). */
/** A request loop's view of one answer: its status, `l5d-proxy-error`, and body. */
export type LoadReply = { status: number; proxyError: unknown; body: string };

/** Requests from several loops under test, counted: bodies of 200s, failures, the total. */
export type Load = { stop(): Promise<void>; bodies: Map<string, number>; failures: string[]; total(): number };

/**
 * Runs `workers` loops, each calling `send(worker, sentSoFar)` again until `stop()`,
 * counting the bodies of 200 answers and describing every other answer or error in
 * `failures`. `stop` waits for the loops, then runs `cleanup`.
 */
export function loadLoops(workers: number, send: (worker: number, sentSoFar: number) => Promise<LoadReply>, cleanup?: () => void): Load {
  const bodies = new Map<string, number>();
  const failures: string[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (running) {
      try {
        const r = await send(w, n);
        n++;
        if (r.status !== 200) failures.push(`${r.status} ${String(r.proxyError ?? r.body)}`);
        else bodies.set(r.body, (bodies.get(r.body) ?? 0) + 1);
      } catch (err) {
        n++;
        failures.push((err as Error).message);
      }
    }
  });
  return {
    bodies, failures,
    total: () => n,
    async stop() {
      running = false;
      await Promise.all(loops);
      cleanup?.();
    },
  };
}

export type Mesh = {
  pki: TestPki;
  a: RunningProxy;
  b: RunningProxy;
  aLeaf: LeafFiles;
  bLeaf: LeafFiles;
  aCreds: FileCredentials;
  bCreds: FileCredentials;
};

/**
 * Starts B (inbound forwarding plain clients to `forwardPort`) and A with
 * `destinations(bInboundPort, bIdentity)` and `targets` (LOCALPORT 0 = ephemeral).
 */
export async function startMesh(t: TestContext, o: {
  destinations: (bInbound: number, bIdentity: string) => string[];
  targets?: string[];
  forwardPort?: number;
  a?: Partial<ProxyConfig>;
  b?: Partial<ProxyConfig>;
}): Promise<Mesh> {
  const pki = new TestPki();
  t.after(() => pki.remove());
  const aLeaf = pki.leaf('client');
  const bLeaf = pki.leaf('web');
  const aCreds = fileCredentials(aLeaf, { pollMs: 0 });
  const bCreds = fileCredentials(bLeaf, { pollMs: 0 });
  const local = { host: '127.0.0.1', port: 0 };
  const log = new Logger(process.env['WEFT_TEST_LOG'] === '1' ? 'debug' : 'off');
  const b = await startProxy({
    ...PROXY_DEFAULTS, inbound: local, outbound: local, admin: local, credentials: bCreds,
    inboundForwardPort: o.forwardPort, ...o.b,
  }, { logger: log.child({ proxy: 'B' }) });
  t.after(() => b.stop({ graceMs: 0 }));
  const a = await startProxy({
    ...PROXY_DEFAULTS, inbound: local, outbound: local, admin: local, credentials: aCreds,
    destinations: o.destinations(b.ports.inbound, bLeaf.identity),
    outboundTargets: (o.targets ?? []).map((authority) => ({ listen: local, authority })),
    ...o.a,
  }, { logger: log.child({ proxy: 'A' }) });
  t.after(() => a.stop({ graceMs: 0 }));
  return { pki, a, b, aLeaf, bLeaf, aCreds, bCreds };
}
