/**
 * The data-plane benchmark: client → hop A (plain in, mTLS out) → hop B (mTLS in) →
 * origin, with weft and with HAProxy 2.6 as both hops, and direct, in one run.
 *
 *   http1: wrk through weft (HTTP/1 framing pipe, pooled mTLS) vs HAProxy `mode http`
 *   tcp:   wrk through weft opaque TCP (transport header) vs HAProxy `mode tcp`
 *   h1-over-h2: the rejected design (HTTP/1 over one multiplexed HTTP/2 session),
 *          measured in the same run so the decision can be re-checked
 *
 * Prints requests/s, p50/p99, CPU µs per request per hop (from /proc, both hops
 * averaged), each proxy's peak RSS, and the ratios weft/HAProxy and weft/direct.
 * Needs wrk and haproxy (apt); installs them with apt-get when missing and root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { TestPki } from '../test/proxy/pki-fixture.ts';
import { buildLean } from './build-lean.ts';

/** Options of one benchmark run. */
export type DataplaneOptions = { durationS: number; warmupS: number; connections: number[]; json: boolean; runs: number; nodeFlags: string[] };

type Measure = { rps: number; p50: number; p99: number; cpuUsPerReqPerHop: number | undefined; peakRssMb: number | undefined };

const ROOT = new URL('..', import.meta.url).pathname;

function ensureTools(): void {
  const missing = ['wrk', 'haproxy'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length === 0) return;
  process.stderr.write(`installing ${missing.join(', ')} with apt-get\n`);
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit' });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} never opened`);
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function ms(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

async function wrk(url: string, c: number, durationS: number): Promise<{ rps: number; p50: number; p99: number; requests: number }> {
  const child = spawn('wrk', ['-t1', `-c${c}`, `-d${durationS}s`, '--latency', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise((r) => child.on('close', r));
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const p50 = ms(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? '');
  const p99 = ms(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '');
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: .*/.exec(out);
  if (errors) process.stderr.write(`wrk ${url}: ${errors[0]}\n`);
  return { rps, p50, p99, requests };
}

/** Runs wrk against `url`, measuring the CPU of `hops` (pids). */
async function measure(url: string, c: number, o: DataplaneOptions, hops: number[]): Promise<Measure> {
  await wrk(url, c, o.warmupS);
  const before = hops.map(cpuTicks);
  const r = await wrk(url, c, o.durationS);
  const ticks = hops.map((p, i) => cpuTicks(p) - before[i]!);
  const clk = 100; // USER_HZ on Linux
  const cpuUs = hops.length === 0 ? undefined : (ticks.reduce((a, b) => a + b, 0) / clk / hops.length) * 1e6 / r.requests;
  return { rps: r.rps, p50: r.p50, p99: r.p99, cpuUsPerReqPerHop: cpuUs, peakRssMb: hops.length === 0 ? undefined : Math.max(...hops.map(peakRssMb)) };
}

function median(ms: Measure[]): Measure {
  const pick = (f: (m: Measure) => number | undefined): number | undefined => {
    const v = ms.map(f).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    return v.length === 0 ? undefined : v[Math.floor(v.length / 2)];
  };
  return { rps: pick((m) => m.rps)!, p50: pick((m) => m.p50)!, p99: pick((m) => m.p99)!, cpuUsPerReqPerHop: pick((m) => m.cpuUsPerReqPerHop), peakRssMb: pick((m) => m.peakRssMb) };
}

/** HAProxy configs for hop A and hop B as in shared/BASELINE.md (one process per hop, one thread each). */
function haproxyConfigs(mode: 'http' | 'tcp', listenA: number, listenB: number, origin: number, pemA: string, pemB: string, ca: string, nameB: string): [string, string] {
  const head = `global
  nbthread 1
  maxconn 5000
  ssl-server-verify required
defaults
  mode ${mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${mode === 'http' ? '  option http-keep-alive\n  http-reuse always\n' : ''}`;
  return [`${head}frontend fa
  bind 127.0.0.1:${listenA}
  default_backend ba
backend ba
  server b 127.0.0.1:${listenB} ssl crt ${pemA} ca-file ${ca} verify required verifyhost ${nameB} sni str(${nameB})
`, `${head}frontend fb
  bind 127.0.0.1:${listenB} ssl crt ${pemB} ca-file ${ca} verify required
  default_backend bb
backend bb
  server s 127.0.0.1:${origin}
`];
}

/** Runs the benchmark and returns the results (also printed). */
export async function runDataplane(o: DataplaneOptions): Promise<Record<string, unknown>> {
  ensureTools();
  const pki = new TestPki('bench');
  const children: ChildProcess[] = [];
  const start = (cmd: string, args: string[]): ChildProcess => {
    if (process.env['BENCH_DEBUG']) process.stderr.write(`${cmd} ${args.join(' ')}\n`);
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(c);
    return c;
  };
  try {
    const a = pki.leaf('client');
    const b = pki.leaf('web');
    const [origin, originTcp] = [await freePort(), await freePort()];
    start(process.execPath, [join(ROOT, 'bench/origin.ts'), String(origin), String(originTcp)]);
    await waitPort(origin);

    // weft: two proxies, each its own process.
    const ports: number[] = [];
    while (ports.length < 8) {
      const p = await freePort();
      if (!ports.includes(p) && p !== origin && p !== originTcp) ports.push(p);
    }
    const [aIn, aOut, aAdmin, aHttp, aTcp, bIn, bOut, bAdmin] = ports as [number, number, number, number, number, number, number, number];
    // The proxy runs as type-stripped JavaScript (see build-lean.ts: the TypeScript
    // loader alone keeps ~50 MB resident), entered through its lean CLI entry point.
    const weft = buildLean('src/cli/proxy.ts', join(ROOT, 'bench/results/lean'), ROOT);
    const wb = start(process.execPath, [...o.nodeFlags, weft, '--log-level', 'warn', '--key-file', b.keyFile, '--cert-file', b.certFile, '--trust-anchors-file', b.trustAnchorsFile,
      '--inbound-addr', `127.0.0.1:${bIn}`, '--outbound-addr', `127.0.0.1:${bOut}`, '--admin-addr', `127.0.0.1:${bAdmin}`, '--inbound-forward-port', String(origin)]);
    const wa = start(process.execPath, [...o.nodeFlags, weft, '--log-level', 'warn', '--key-file', a.keyFile, '--cert-file', a.certFile, '--trust-anchors-file', a.trustAnchorsFile,
      '--inbound-addr', `127.0.0.1:${aIn}`, '--outbound-addr', `127.0.0.1:${aOut}`, '--admin-addr', `127.0.0.1:${aAdmin}`,
      '--outbound-target', `${aHttp}=web.bench:${origin}`, '--outbound-target', `${aTcp}=tcp.bench:${originTcp}`,
      '--opaque-ports', String(originTcp),
      '--dst', `web.bench:${origin}=127.0.0.1:${bIn}#${b.identity}`, '--dst', `tcp.bench:${originTcp}=127.0.0.1:${bIn}#${b.identity}`]);
    await Promise.all([waitPort(aHttp), waitPort(aTcp), waitPort(bIn)]);

    // HAProxy: same topology, one process per hop pair and mode.
    const pemA = pki.combinedPem(a);
    const pemB = pki.combinedPem(b);
    const hap: Record<'http' | 'tcp', { port: number; pids: number[] }> = {} as never;
    for (const mode of ['http', 'tcp'] as const) {
      const [la, lb] = [await freePort(), await freePort()];
      const cfgs = haproxyConfigs(mode, la, lb, mode === 'http' ? origin : originTcp, pemA, pemB, pki.caCert, b.identity);
      const pids = cfgs.map((text, i) => {
        const cfg = join(pki.dir, `haproxy-${mode}-${i}.cfg`);
        writeFileSync(cfg, text);
        return start('haproxy', ['-db', '-f', cfg]).pid!;
      });
      await Promise.all([waitPort(la), waitPort(lb)]);
      hap[mode] = { port: la, pids };
    }

    // The design alternative for HTTP/1 between proxies: one multiplexed HTTP/2 session.
    const [ha, hb] = [await freePort(), await freePort()];
    const h2b = start(process.execPath, [join(ROOT, 'bench/h1-over-h2-hop.ts'), 'b', String(hb), String(origin), b.keyFile, b.certFile, pki.caCert]);
    const h2a = start(process.execPath, [join(ROOT, 'bench/h1-over-h2-hop.ts'), 'a', String(ha), String(hb), a.keyFile, a.certFile, pki.caCert, b.identity]);
    await Promise.all([waitPort(ha), waitPort(hb)]);

    const results: Record<string, Record<string, Measure>> = {};
    for (const c of o.connections) {
      const runs: Record<string, Measure[]> = { direct: [], 'haproxy-http': [], 'weft-http': [], 'h1-over-h2': [], 'haproxy-tcp': [], 'weft-tcp': [] };
      for (let i = 0; i < o.runs; i++) {
        runs['direct']!.push(await measure(`http://127.0.0.1:${origin}/`, c, o, []));
        runs['haproxy-http']!.push(await measure(`http://127.0.0.1:${hap.http.port}/`, c, o, hap.http.pids));
        runs['weft-http']!.push(await measure(`http://127.0.0.1:${aHttp}/`, c, o, [wa.pid!, wb.pid!]));
        runs['h1-over-h2']!.push(await measure(`http://127.0.0.1:${ha}/`, c, o, [h2a.pid!, h2b.pid!]));
        runs['haproxy-tcp']!.push(await measure(`http://127.0.0.1:${hap.tcp.port}/`, c, o, hap.tcp.pids));
        runs['weft-tcp']!.push(await measure(`http://127.0.0.1:${aTcp}/`, c, o, [wa.pid!, wb.pid!]));
      }
      results[`c${c}`] = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
    }
    return report(results, o);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    pki.remove();
  }
}

function report(results: Record<string, Record<string, Measure>>, o: DataplaneOptions): Record<string, unknown> {
  const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined || b === 0 ? undefined : Math.round((a / b) * 100) / 100;
  const summary: Record<string, unknown> = {};
  const lines: string[] = [];
  for (const [conc, r] of Object.entries(results)) {
    lines.push(`\n${conc}: scenario         req/s    p50 ms   p99 ms   CPU µs/req/hop   peak RSS MB`);
    for (const [name, m] of Object.entries(r)) {
      lines.push(`     ${name.padEnd(14)} ${m.rps.toFixed(0).padStart(8)} ${m.p50.toFixed(2).padStart(8)} ${m.p99.toFixed(2).padStart(8)} ${(m.cpuUsPerReqPerHop?.toFixed(1) ?? '–').padStart(16)} ${(m.peakRssMb?.toFixed(1) ?? '–').padStart(13)}`);
    }
    for (const kind of ['http', 'tcp'] as const) {
      const w = r[`weft-${kind}`]!;
      const h = r[`haproxy-${kind}`]!;
      const d = r['direct']!;
      const key = kind === 'http' ? 'http1' : 'tcp';
      const s = {
        rps_ratio_vs_haproxy: ratio(w.rps, h.rps),
        p99_ratio_vs_haproxy: ratio(w.p99, h.p99),
        cpu_per_request_ratio_vs_haproxy: ratio(w.cpuUsPerReqPerHop, h.cpuUsPerReqPerHop),
        rps_ratio_vs_direct: ratio(w.rps, d.rps),
        weft_peak_rss_mb: w.peakRssMb,
      };
      ((summary[key] ??= {}) as Record<string, unknown>)[conc] = s;
      lines.push(`     ${key}: weft/haproxy req/s ${s.rps_ratio_vs_haproxy}, p99 ${s.p99_ratio_vs_haproxy}, CPU/req ${s.cpu_per_request_ratio_vs_haproxy}; weft/direct req/s ${s.rps_ratio_vs_direct}`);
    }
  }
  const out = { options: o, results, summary };
  if (o.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else process.stdout.write(`${lines.join('\n')}\n`);
  return out;
}
