/**
 * Per-request cost of recording the proxy's HTTP metrics: weft's hand-written
 * registry (series resolved once per route, then field bumps) against prom-client
 * (labels object per call), for the same work: one request_total, one
 * response_total and one response_latency_ms observation per request.
 *
 *   node bench/metrics.ts [path/to/prom-client]   (prom-client is not a dependency;
 *   install it anywhere to compare: npm install --prefix /tmp/pc prom-client)
 */
import { ProxyMetrics } from '../src/proxy/index.ts';

const N = 1_000_000;

function time(label: string, fn: (i: number) => void): number {
  for (let i = 0; i < 100_000; i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / N;
  process.stdout.write(`${label.padEnd(28)} ${ns.toFixed(0).padStart(6)} ns/request\n`);
  return ns;
}

const m = new ProxyMetrics();
const route = m.route('outbound', 'web.default.svc.cluster.local:8080', 'true', 'web.default.serviceaccount.identity.weft.cluster.local');
const ours = time('weft registry', (i) => {
  route.request();
  route.response(i % 50 === 0 ? 503 : 200, i % 50 === 0, (i % 17) * 0.3);
});

const path = process.argv[2];
if (path !== undefined) {
  type Labels = Record<string, string>;
  type Metric = { inc(l: Labels): void; observe(l: Labels, v: number): void };
  type Ctor = new (o: Record<string, unknown>) => Metric;
  const prom = (await import(path)) as { Registry: new () => unknown; Counter: Ctor; Histogram: Ctor };
  const registry = new prom.Registry();
  const labelNames = ['direction', 'authority', 'tls', 'server_id'];
  const requests = new prom.Counter({ name: 'request_total', help: 'h', labelNames, registers: [registry] });
  const responses = new prom.Counter({ name: 'response_total', help: 'h', labelNames: [...labelNames, 'status_code', 'classification'], registers: [registry] });
  const latency = new prom.Histogram({ name: 'response_latency_ms', help: 'h', labelNames: [...labelNames, 'status_code'], buckets: [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000], registers: [registry] });
  const base = { direction: 'outbound', authority: 'web.default.svc.cluster.local:8080', tls: 'true', server_id: 'web.default.serviceaccount.identity.weft.cluster.local' };
  const theirs = time('prom-client', (i) => {
    const status = i % 50 === 0 ? '503' : '200';
    requests.inc(base);
    responses.inc({ ...base, status_code: status, classification: status === '503' ? 'failure' : 'success' });
    latency.observe({ ...base, status_code: status }, (i % 17) * 0.3);
  });
  process.stdout.write(`prom-client / weft: ${(theirs / ours).toFixed(1)}×\n`);
}
