/**
 * The data-plane benchmark, in one go on this machine:
 *
 *   client ─▶ hop A (plain in, mTLS out) ─▶ hop B (mTLS in, client cert required) ─▶ origin
 *
 * with weft as both hops, HAProxy 2.6 as both hops (shared/BASELINE.md's
 * configuration: one process and one thread per hop, `mode http` with `verify
 * required` between the hops, `mode tcp` for TCP), and direct (no hops):
 *
 *   http1  wrk          weft HTTP/1 (framing pipe, pooled mTLS)   vs HAProxy mode http
 *   h2     h2load       weft HTTP/2 (multiplexed mTLS session)     vs HAProxy mode http, h2 end to end
 *   grpc   h2load -d    the same path with gRPC requests and trailers
 *   tcp    wrk          weft opaque TCP (transport header)         vs HAProxy mode tcp
 *
 * Saturation at each `--connections` (default 16 and 64), then a fixed rate
 * (`--rate`, default 1,000 req/s, h2load `--rps`): latency added over direct at p50 and
 * p99, as Linkerd and Istio publish theirs. Prints per run requests/s, p50/p99, CPU
 * µs per request per hop (/proc utime+stime of both hops over the measured run), each
 * proxy's peak RSS (VmHWM, reset before every scenario) and peak anonymous memory
 * (RssAnon sampled every 100 ms: the process' own pages, without the `node` binary and
 * libraries that every proxy shares through the page cache), and the ratios
 * weft/HAProxy and weft/direct; `--json` prints one JSON object instead of tables.
 * The weft proxies run with the platform's `node` flags (PROXY_NODE_FLAGS) unless
 * `--node-flags` gives others (`--node-flags=` for none).
 *
 *   npm run bench:dataplane -- --duration 5 --json
 *   node bench/dataplane.ts --protocols http1,tcp --connections 64 --node-flags '--max-semi-space-size=2'
 *
 * Installs wrk, haproxy and nghttp2-client (h2load) with apt-get when missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROXY_NODE_FLAGS } from '../src/platform/index.ts';
import { TestPki } from '../test/proxy/pki-fixture.ts';
import { buildLean } from './build-lean.ts';
import { CLK_TCK, cpuTicks, freePort, run, waitPort, wrkMs } from './processes.ts';

/** The protocols measured. */
export const PROTOCOLS = ['http1', 'h2', 'grpc', 'tcp'] as const;
/** One of `PROTOCOLS`. */
export type Protocol = (typeof PROTOCOLS)[number];

/** Options of one benchmark run. */
export type DataplaneOptions = {
  durationS: number;
  warmupS: number;
  connections: number[];
  runs: number;
  json: boolean;
  /** `node` flags for the weft proxies: the platform's (PROXY_NODE_FLAGS) unless given. */
  nodeFlags: string[];
  /** Fixed-rate phase in requests per second (0 skips it). */
  rate: number;
  protocols: Protocol[];
  /** Also measure the rejected HTTP/1-over-HTTP/2 hop (bench/h1-over-h2-hop.ts). */
  alternatives: boolean;
};

/** One measured run. */
export type Measure = {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  /** CPU per request per hop in µs (undefined for direct). */
  cpuUsPerReqPerHop: number | undefined;
  /** Largest VmHWM of the hops during the scenario, MB. */
  peakRssMb: number | undefined;
  /**
   * Largest RssAnon of the hops during the scenario (warm-up included), MB, sampled
   * every {@link ANON_SAMPLE_MS}: the pages only this process has (heaps, buffers,
   * stacks). The rest of RSS is file-backed (the binary, libraries), shared by every
   * process that runs the same `node` or `haproxy`.
   */
  peakAnonMb: number | undefined;
};

type Scenario = 'direct' | 'haproxy' | 'weft' | 'h1-over-h2';
type Target = { url: string; pids: number[] };

const ROOT = new URL('..', import.meta.url).pathname;
/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on Linux. */

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function ensureTools(): void {
  const want: Record<string, string> = { wrk: 'wrk', haproxy: 'haproxy', h2load: 'nghttp2-client' };
  const missing = Object.entries(want).filter(([t]) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  log(`installing ${missing.join(', ')} with apt-get`);
  const install = (): number | null => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 2, 2] }).status;
  if (install() !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 2, 2] });
    if (install() !== 0) throw new Error(`Install ${missing.join(', ')} (apt-get install failed; run as root)`);
  }
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** How often a scenario samples its hops' anonymous memory. */
const ANON_SAMPLE_MS = 100;

/** RssAnon of a process in MB (0 once it is gone). */
function anonMb(pid: number): number {
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the largest RssAnon of `pids` until `stop()`, which returns it (MB). */
function sampleAnon(pids: number[]): { stop(): number } {
  let peak = 0;
  const sample = (): void => {
    for (const p of pids) peak = Math.max(peak, anonMb(p));
  };
  sample();
  const timer = setInterval(sample, ANON_SAMPLE_MS);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0), so each scenario's peak is its own. */
function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not permitted: the peak then covers the process' whole life so far.
  }
}

type Load = { rps: number; p50: number; p99: number; requests: number; errors: number };

async function wrk(url: string, c: number, durationS: number): Promise<Load> {
  const out = await run('wrk', ['-t1', `-c${c}`, `-d${durationS}s`, '--latency', url]);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
    + [...out.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    p50: wrkMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? ''),
    p99: wrkMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ''),
    errors,
  };
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * h2load (HTTP/2, gRPC, or HTTP/1 with `h1`); latency percentiles from its per-request
 * log (its own summary has only mean and sd). `rps`: per-client rate (fixed-rate phase).
 */
async function h2load(url: string, c: number, durationS: number, o: { h1?: boolean; grpc?: string; rps?: number }): Promise<Load> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-h2load-'));
  const logFile = join(dir, 'log.tsv');
  const args = ['-t1', `-c${c}`, '-m1', `-D${durationS}`, `--log-file=${logFile}`];
  if (o.h1 === true) args.push('--h1');
  if (o.rps !== undefined) args.push(`--rps=${o.rps}`);
  if (o.grpc !== undefined) args.push('-d', o.grpc, '-H', 'content-type: application/grpc', '-H', 'te: trailers');
  try {
    const out = await run('h2load', [...args, url]);
    const lat: number[] = [];
    let errors = 0;
    for (const line of readFileSync(logFile, 'utf8').split('\n')) {
      const f = line.split('\t');
      if (f.length < 3) continue;
      if (Number(f[1]) >= 300 || Number(f[1]) <= 0) errors++;
      lat.push(Number(f[2]) / 1000);
    }
    const sorted = Float64Array.from(lat).sort();
    const m = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
    if (m === null) log(`h2load ${url}: ${out.trim().split('\n').slice(-3).join(' | ')}`);
    return {
      rps: Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN),
      requests: Number(m?.[3] ?? lat.length),
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      errors: errors + Number(m?.[4] ?? 0) + Number(m?.[5] ?? 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function load(protocol: Protocol, url: string, c: number, durationS: number, grpcBody: string, rps?: number): Promise<Load> {
  const rate = rps === undefined ? {} : { rps };
  if (rps !== undefined && (protocol === 'http1' || protocol === 'tcp')) return h2load(url, c, durationS, { h1: true, ...rate });
  if (protocol === 'http1' || protocol === 'tcp') return wrk(url, c, durationS);
  if (protocol === 'grpc') return h2load(url, c, durationS, { grpc: grpcBody, ...rate });
  return h2load(url, c, durationS, rate);
}

/** Warms up, then measures one scenario with the CPU and peak RSS of its hops. */
async function measure(protocol: Protocol, t: Target, c: number, o: DataplaneOptions, grpcBody: string, rps?: number): Promise<Measure> {
  for (const p of t.pids) resetPeakRss(p);
  const anon = sampleAnon(t.pids);
  if (o.warmupS > 0) await load(protocol, t.url, c, o.warmupS, grpcBody, rps);
  const before = t.pids.map(cpuTicks);
  const r = await load(protocol, t.url, c, o.durationS, grpcBody, rps);
  const ticks = t.pids.reduce((sum, p, i) => sum + cpuTicks(p) - before[i]!, 0);
  const peakAnon = anon.stop();
  if (r.errors > 0) log(`${protocol} ${t.url} c=${c}: ${r.errors} errors`);
  return {
    ...r,
    cpuUsPerReqPerHop: t.pids.length === 0 || r.requests === 0 ? undefined : (ticks / CLK_TCK / t.pids.length) * 1e6 / r.requests,
    peakRssMb: t.pids.length === 0 ? undefined : Math.max(...t.pids.map(peakRssMb)),
    peakAnonMb: t.pids.length === 0 ? undefined : peakAnon,
  };
}

function median(ms: Measure[]): Measure {
  const pick = (f: (m: Measure) => number | undefined): number | undefined => {
    const v = ms.map(f).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    return v.length === 0 ? undefined : v[Math.floor(v.length / 2)];
  };
  return {
    rps: pick((m) => m.rps)!, p50: pick((m) => m.p50)!, p99: pick((m) => m.p99)!, requests: pick((m) => m.requests)!,
    errors: ms.reduce((a, m) => a + m.errors, 0), cpuUsPerReqPerHop: pick((m) => m.cpuUsPerReqPerHop), peakRssMb: pick((m) => m.peakRssMb),
    peakAnonMb: pick((m) => m.peakAnonMb),
  };
}

type HopPorts = { listenA: number; listenB: number; origin: number };
type Tls = { pemA: string; pemB: string; ca: string; nameB: string };

/** HAProxy configs for hop A and hop B as in shared/BASELINE.md (one process per hop, one thread each). */
function haproxyConfigs(kind: 'http' | 'h2' | 'tcp', p: HopPorts, t: Tls): [string, string] {
  const head = `global
  nbthread 1
  maxconn 5000
  ssl-server-verify required
defaults
  mode ${kind === 'tcp' ? 'tcp' : 'http'}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${kind === 'tcp' ? '' : '  option http-keep-alive\n  http-reuse always\n'}`;
  // HTTP/2 end to end: h2c prior knowledge in, ALPN h2 between the hops, h2c to the origin.
  const h2 = kind === 'h2';
  return [`${head}frontend fa
  bind 127.0.0.1:${p.listenA}${h2 ? ' proto h2' : ''}
  default_backend ba
backend ba
  server b 127.0.0.1:${p.listenB} ssl crt ${t.pemA} ca-file ${t.ca} verify required verifyhost ${t.nameB} sni str(${t.nameB})${h2 ? ' alpn h2' : ''}
`, `${head}frontend fb
  bind 127.0.0.1:${p.listenB} ssl crt ${t.pemB} ca-file ${t.ca} verify required${h2 ? ' alpn h2' : ''}
  default_backend bb
backend bb
  server s 127.0.0.1:${p.origin}${h2 ? ' proto h2' : ''}
`];
}

/** Runs the benchmark and returns the results (also printed: tables, or one JSON object with `json`). */
export async function runDataplane(o: DataplaneOptions): Promise<Record<string, unknown>> {
  ensureTools();
  const pki = new TestPki('bench');
  const children: ChildProcess[] = [];
  const start = (cmd: string, args: string[]): ChildProcess => {
    if (process.env['BENCH_DEBUG']) log(`${cmd} ${args.join(' ')}`);
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(c);
    return c;
  };
  try {
    const taken = new Set<number>();
    const port = (): Promise<number> => freePort(taken);
    const grpcBody = join(pki.dir, 'grpc-request.bin');
    writeFileSync(grpcBody, Buffer.from([0, 0, 0, 0, 2, 0x68, 0x69])); // one 2-byte gRPC message

    const origin = { h1: await port(), tcp: await port(), h2: await port() };
    start(process.execPath, [join(ROOT, 'bench/origin.ts'), `h1:${origin.h1}`, `h1:${origin.tcp}`, `h2:${origin.h2}`]);
    await Promise.all([waitPort(origin.h1), waitPort(origin.tcp), waitPort(origin.h2)]);

    // weft: two proxies, each its own process, run as type-stripped JavaScript through
    // the proxy's lean entry point (see build-lean.ts: the TypeScript loader alone
    // keeps ~50 MB resident). A fresh pair per protocol, so each peak RSS is that
    // protocol's own (memory a process once grew is not all given back).
    const a = pki.leaf('client');
    const b = pki.leaf('web');
    const weft = buildLean('src/cli/proxy.ts', join(ROOT, 'bench/results/lean'), ROOT);
    const originOf = (p: Protocol): number => (p === 'http1' ? origin.h1 : p === 'tcp' ? origin.tcp : origin.h2);
    const startWeft = async (p: Protocol): Promise<{ target: Target; stop(): void }> => {
      const [aIn, aOut, aAdmin, aTarget, bIn, bOut, bAdmin] = [await port(), await port(), await port(), await port(), await port(), await port(), await port()];
      const authority = `${p}.bench:${originOf(p)}`;
      const wb = start(process.execPath, [...o.nodeFlags, weft, '--log-level', 'warn', '--key-file', b.keyFile, '--cert-file', b.certFile, '--trust-anchors-file', b.trustAnchorsFile,
        '--inbound-addr', `127.0.0.1:${bIn}`, '--outbound-addr', `127.0.0.1:${bOut}`, '--admin-addr', `127.0.0.1:${bAdmin}`, '--inbound-forward-port', String(originOf(p))]);
      const wa = start(process.execPath, [...o.nodeFlags, weft, '--log-level', 'warn', '--key-file', a.keyFile, '--cert-file', a.certFile, '--trust-anchors-file', a.trustAnchorsFile,
        '--inbound-addr', `127.0.0.1:${aIn}`, '--outbound-addr', `127.0.0.1:${aOut}`, '--admin-addr', `127.0.0.1:${aAdmin}`,
        '--outbound-target', `${aTarget}=${authority}`, ...(p === 'tcp' ? ['--opaque-ports', String(origin.tcp)] : []),
        '--dst', `${authority}=127.0.0.1:${bIn}#${b.identity}`]);
      await Promise.all([waitPort(aTarget), waitPort(bIn)]);
      return {
        target: { url: `http://127.0.0.1:${aTarget}/${p === 'grpc' ? 'bench.Echo/Say' : ''}`, pids: [wa.pid!, wb.pid!] },
        stop: () => { wa.kill('SIGTERM'); wb.kill('SIGTERM'); },
      };
    };

    // HAProxy: the same topology, one pair of processes per kind.
    const tlsFiles: Tls = { pemA: pki.combinedPem(a), pemB: pki.combinedPem(b), ca: pki.caCert, nameB: b.identity };
    const hap = {} as Record<'http' | 'h2' | 'tcp', Target>;
    for (const kind of ['http', 'h2', 'tcp'] as const) {
      const p: HopPorts = { listenA: await port(), listenB: await port(), origin: kind === 'http' ? origin.h1 : kind === 'h2' ? origin.h2 : origin.tcp };
      const pids = haproxyConfigs(kind, p, tlsFiles).map((text, i) => {
        const cfg = join(pki.dir, `haproxy-${kind}-${i}.cfg`);
        writeFileSync(cfg, text);
        return start('haproxy', ['-db', '-f', cfg]).pid!;
      });
      await Promise.all([waitPort(p.listenA), waitPort(p.listenB)]);
      hap[kind] = { url: `http://127.0.0.1:${p.listenA}/`, pids };
    }

    const targets: Record<Protocol, Partial<Record<Scenario, Target>>> = {
      http1: { direct: { url: `http://127.0.0.1:${origin.h1}/`, pids: [] }, haproxy: hap.http },
      h2: { direct: { url: `http://127.0.0.1:${origin.h2}/`, pids: [] }, haproxy: hap.h2 },
      grpc: { direct: { url: `http://127.0.0.1:${origin.h2}/bench.Echo/Say`, pids: [] }, haproxy: { ...hap.h2, url: `${hap.h2.url}bench.Echo/Say` } },
      tcp: { direct: { url: `http://127.0.0.1:${origin.tcp}/`, pids: [] }, haproxy: hap.tcp },
    };
    if (o.alternatives) {
      // The rejected design for HTTP/1 between proxies: one multiplexed HTTP/2 session.
      const [ha, hb] = [await port(), await port()];
      const h2b = start(process.execPath, [join(ROOT, 'bench/h1-over-h2-hop.ts'), 'b', String(hb), String(origin.h1), b.keyFile, b.certFile, pki.caCert]);
      const h2a = start(process.execPath, [join(ROOT, 'bench/h1-over-h2-hop.ts'), 'a', String(ha), String(hb), a.keyFile, a.certFile, pki.caCert, b.identity]);
      await Promise.all([waitPort(ha), waitPort(hb)]);
      targets.http1['h1-over-h2'] = { url: `http://127.0.0.1:${ha}/`, pids: [h2a.pid!, h2b.pid!] };
    }

    const saturation: Record<string, Record<string, Record<string, Measure>>> = {};
    const fixed: Record<string, Record<string, Measure>> = {};
    for (const protocol of o.protocols) {
      const w = await startWeft(protocol);
      targets[protocol].weft = w.target;
      saturation[protocol] = {};
      for (const c of o.connections) {
        const runs: Record<string, Measure[]> = {};
        for (let i = 0; i < o.runs; i++) {
          for (const [name, t] of Object.entries(targets[protocol])) {
            log(`${protocol} c=${c} ${name} run ${i + 1}/${o.runs}`);
            (runs[name] ??= []).push(await measure(protocol, t, c, o, grpcBody));
          }
        }
        saturation[protocol][`c${c}`] = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
      }
      if (o.rate > 0) {
        // Fixed rate: 10 connections at rate/10 req/s each.
        const clients = 10;
        const runs: Record<string, Measure[]> = {};
        for (let i = 0; i < o.runs; i++) {
          for (const [name, t] of Object.entries(targets[protocol])) {
            if (name === 'h1-over-h2') continue;
            log(`${protocol} ${o.rate} req/s ${name} run ${i + 1}/${o.runs}`);
            (runs[name] ??= []).push(await measure(protocol, t, clients, o, grpcBody, Math.max(1, Math.round(o.rate / clients))));
          }
        }
        fixed[protocol] = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
      }
      w.stop();
    }
    return report(saturation, fixed, o);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    pki.remove();
  }
}

const round = (v: number | undefined, digits = 2): number | undefined =>
  v === undefined || !Number.isFinite(v) ? undefined : Math.round(v * 10 ** digits) / 10 ** digits;
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : round(a / b);

/** The issue's goals (HTTP/1 and TCP); RSS for every protocol. */
const GOALS = {
  http1: { rps_ratio_vs_haproxy: 0.7, cpu_per_request_ratio_vs_haproxy: 1.5, p99_ratio_vs_haproxy: 2, weft_peak_rss_mb: 64 },
  tcp: { rps_ratio_vs_haproxy: 0.85, weft_peak_rss_mb: 64 },
  h2: { weft_peak_rss_mb: 64 },
  grpc: { weft_peak_rss_mb: 64 },
} as const;

function report(saturation: Record<string, Record<string, Record<string, Measure>>>, fixed: Record<string, Record<string, Measure>>, o: DataplaneOptions): Record<string, unknown> {
  const out: Record<string, unknown> = { options: o };
  const lines: string[] = [];
  const fmt = (v: number | undefined, d: number, w: number): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d)).padStart(w);
  for (const [protocol, byConc] of Object.entries(saturation)) {
    const perConc: Record<string, Record<string, number | undefined>> = {};
    for (const [conc, r] of Object.entries(byConc)) {
      lines.push(`\n${protocol} ${conc}   req/s   p50 ms   p99 ms   CPU µs/req/hop   peak RSS MB   peak anon MB   errors`);
      for (const [name, m] of Object.entries(r)) {
        lines.push(`  ${name.padEnd(11)} ${fmt(m.rps, 0, 8)} ${fmt(m.p50, 2, 8)} ${fmt(m.p99, 2, 8)} ${fmt(m.cpuUsPerReqPerHop, 1, 16)} ${fmt(m.peakRssMb, 1, 13)} ${fmt(m.peakAnonMb, 1, 14)} ${String(m.errors).padStart(8)}`);
      }
      const w = r['weft']!;
      const h = r['haproxy']!;
      const d = r['direct']!;
      const s = {
        rps_ratio_vs_haproxy: ratio(w.rps, h.rps),
        p99_ratio_vs_haproxy: ratio(w.p99, h.p99),
        cpu_per_request_ratio_vs_haproxy: ratio(w.cpuUsPerReqPerHop, h.cpuUsPerReqPerHop),
        weft_peak_rss_mb: round(w.peakRssMb, 1),
        haproxy_peak_rss_mb: round(h.peakRssMb, 1),
        weft_peak_anon_mb: round(w.peakAnonMb, 1),
        haproxy_peak_anon_mb: round(h.peakAnonMb, 1),
        rps_ratio_vs_direct: ratio(w.rps, d.rps),
        p99_ratio_vs_direct: ratio(w.p99, d.p99),
        weft_cpu_us_per_request_per_hop: round(w.cpuUsPerReqPerHop, 1),
        haproxy_cpu_us_per_request_per_hop: round(h.cpuUsPerReqPerHop, 1),
      };
      perConc[conc] = s;
      lines.push(`  weft/haproxy: req/s ${s.rps_ratio_vs_haproxy}, p99 ${s.p99_ratio_vs_haproxy}, CPU/req ${s.cpu_per_request_ratio_vs_haproxy}; weft/direct: req/s ${s.rps_ratio_vs_direct}, p99 ${s.p99_ratio_vs_direct}`);
    }
    // The headline numbers are the worst over the concurrencies measured.
    const all = Object.values(perConc);
    const worst = (k: string, f: (...v: number[]) => number): number | undefined => {
      const v = all.map((s) => s[k]).filter((x): x is number => x !== undefined);
      return v.length === 0 ? undefined : f(...v);
    };
    const summary: Record<string, unknown> = {
      rps_ratio_vs_haproxy: worst('rps_ratio_vs_haproxy', Math.min),
      p99_ratio_vs_haproxy: worst('p99_ratio_vs_haproxy', Math.max),
      cpu_per_request_ratio_vs_haproxy: worst('cpu_per_request_ratio_vs_haproxy', Math.max),
      weft_peak_rss_mb: worst('weft_peak_rss_mb', Math.max),
      haproxy_peak_rss_mb: worst('haproxy_peak_rss_mb', Math.max),
      weft_peak_anon_mb: worst('weft_peak_anon_mb', Math.max),
      haproxy_peak_anon_mb: worst('haproxy_peak_anon_mb', Math.max),
      rps_ratio_vs_direct: worst('rps_ratio_vs_direct', Math.min),
      saturation: { ...perConc },
      runs: byConc,
    };
    const f = fixed[protocol];
    if (f !== undefined) {
      lines.push(`\n${protocol} at ${o.rate} req/s   achieved   p50 ms   p99 ms   +p50 ms over direct   +p99 ms over direct   CPU µs/req/hop`);
      const added: Record<string, unknown> = {};
      for (const [name, m] of Object.entries(f)) {
        const d = f['direct']!;
        const add50 = name === 'direct' ? undefined : m.p50 - d.p50;
        const add99 = name === 'direct' ? undefined : m.p99 - d.p99;
        lines.push(`  ${name.padEnd(11)} ${fmt(m.rps, 0, 14)} ${fmt(m.p50, 2, 8)} ${fmt(m.p99, 2, 8)} ${fmt(add50, 2, 21)} ${fmt(add99, 2, 21)} ${fmt(m.cpuUsPerReqPerHop, 1, 16)}`);
        added[name] = { rps: round(m.rps, 0), p50_ms: round(m.p50, 3), p99_ms: round(m.p99, 3), added_p50_ms: round(add50, 3), added_p99_ms: round(add99, 3), cpu_us_per_request_per_hop: round(m.cpuUsPerReqPerHop, 1), errors: m.errors };
      }
      summary['fixed_rate'] = { rate: o.rate, ...added };
    }
    const goals = GOALS[protocol as Protocol];
    const verdict: Record<string, unknown> = {};
    for (const [k, goal] of Object.entries(goals)) {
      const v = summary[k] as number | undefined;
      const lowerIsBetter = k !== 'rps_ratio_vs_haproxy';
      verdict[k] = { goal, value: v, met: v !== undefined && (lowerIsBetter ? v <= goal : v >= goal) };
    }
    summary['goals'] = verdict;
    out[protocol] = summary;
    lines.push(`  ${protocol} goals: ${Object.entries(verdict).map(([k, v]) => `${k} ${(v as { value: unknown }).value} (goal ${(v as { goal: number }).goal}: ${(v as { met: boolean }).met ? 'met' : 'NOT met'})`).join('; ')}`);
  }
  lines.push(`\nweft proxies ran as: node ${o.nodeFlags.join(' ')} <lean proxy entry>`);
  if (o.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else process.stdout.write(`${lines.join('\n')}\n`);
  return out;
}

/** Parses the command line (shared with bench/run.ts). */
export function dataplaneOptions(argv: string[]): DataplaneOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '16,64' },
      runs: { type: 'string', default: '1' },
      rate: { type: 'string', default: '1000' },
      protocols: { type: 'string', default: PROTOCOLS.join(',') },
      alternatives: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'node-flags': { type: 'string' },
    },
  });
  const protocols = values.protocols.split(',').filter((p) => p !== '');
  for (const p of protocols) if (!(PROTOCOLS as readonly string[]).includes(p)) throw new Error(`Use --protocols from ${PROTOCOLS.join(',')}: got "${p}"`);
  return {
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
    connections: values.connections.split(',').map(Number),
    runs: Number(values.runs),
    rate: Number(values.rate),
    protocols: protocols as Protocol[],
    alternatives: values.alternatives,
    json: values.json,
    nodeFlags: values['node-flags'] === undefined ? [...PROXY_NODE_FLAGS] : values['node-flags'].split(' ').filter((f) => f !== ''),
  };
}

if (import.meta.main) await runDataplane(dataplaneOptions(process.argv.slice(2)));
