/**
 * A/B harness for the HTTP/1 path: weft proxy pairs built from several source trees,
 * plus HAProxy (bench/dataplane.ts's configuration), measured in alternating rounds in
 * one process tree, so a change smaller than the machine's noise still shows as an
 * ordering within each round. Same topology as bench/dataplane.ts:
 * wrk → hop A (plain in, mTLS out) → hop B → origin.
 *
 *   git archive HEAD~3 src | tar -x -C /tmp/before
 *   node bench/http1-ab.ts --build before=/tmp/before --build after=. --c 16,64 --dur 4 --rounds 5
 *   node bench/http1-ab.ts --build after=. --nohap --c 64 --hold 8 --flags="--cpu-prof --cpu-prof-dir=/tmp/p --cpu-prof-name=%N.cpuprofile"
 *   node bench/http1-ab.ts --build after=. --nohap --c 64 --hold 6 --perf /tmp/perf.data --flags=--perf-basic-prof
 *   node bench/http1-ab.ts --tcp --build before=/tmp/before --build after=. --c 16,64   (opaque TCP, HAProxy mode tcp)
 *
 * `--build name=root[=proxy args]`: a tree holding src/ (built lean into
 * bench/results/h1p/); `--flags`: node flags for every proxy (`%N` becomes name-hop);
 * `--bflags name:flags`: node flags for one build's proxies only (compare flags on one tree);
 * `--hold S`: instead of rounds, drive the first build for S seconds (profiling) and
 * print its request metrics; `--perf FILE`: perf record -g both hops meanwhile
 * (`PERF_DWARF=1`: DWARF call graphs at 499 Hz, which see through libc and OpenSSL);
 * `--tcp`: the same for opaque TCP (the origin's port is opaque at hop A, as in
 * bench/dataplane.ts's tcp protocol; HAProxy in mode tcp).
 * Prints per build and concurrency the median req/s, CPU µs/request/hop (utime+stime
 * of both hops over the run, halved), p99 and the larger hop's peak RSS (VmHWM, reset
 * before each measured run), with every round's CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TestPki } from '../test/proxy/pki-fixture.ts';
import { buildLean } from './build-lean.ts';
import { cpuTicks, cpuTimes, freePort, run, waitPort, wrkMs } from './processes.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: {
  build: { type: 'string', multiple: true, default: [] },
  c: { type: 'string', default: '16,64' }, dur: { type: 'string', default: '4' }, rounds: { type: 'string', default: '3' },
  flags: { type: 'string', default: '' }, nohap: { type: 'boolean', default: false }, hold: { type: 'string', default: '0' },
  perf: { type: 'string', default: '' }, tcp: { type: 'boolean', default: false },
  bflags: { type: 'string', multiple: true, default: [] },
} });
/** `--bflags name:flags`: extra node flags for one build's proxies (so two builds of one tree can compare flags). */
const buildFlags = new Map(values.bflags.map((s) => [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1).split(' ').filter((f) => f !== '')]));

async function wrk(url: string, c: number, d: number): Promise<{ rps: number; n: number; p99: number; err: string }> {
  const out = await run('wrk', ['-t1', `-c${c}`, `-d${d}s`, '--latency', url]);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), n: Number(/(\d+) requests in/.exec(out)?.[1]), p99: wrkMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ''), err: /Non-2xx.*|Socket errors.*/.exec(out)?.[0] ?? '' };
}

const children: ChildProcess[] = [];
const start = (cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess => {
  const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: env ?? process.env });
  children.push(c);
  return c;
};
const pki = new TestPki('h1p');
try {
  const originPort = await freePort();
  start(process.execPath, [join(ROOT, 'bench/origin.ts'), `h1:${originPort}`]);
  await waitPort(originPort);
  const a = pki.leaf('client');
  const b = pki.leaf('web');
  const targets: Array<{ name: string; url: string; pids: number[]; admins?: number[] }> = [];
  const flags = values.flags.split(' ').filter((f) => f !== '');
  for (const spec of values.build) {
    const [name, rootArg, extra] = spec.split('=') as [string, string, string | undefined];
    const root = resolve(rootArg);
    const pargs = extra === undefined ? [] : extra.split(' ');
    const out = join(ROOT, 'bench/results/h1p', `lean-${name.replace(/[^a-z]/g, '')}`);
    const entry = buildLean('src/cli/proxy.ts', out, root);
    const [bIn, bOut, bAdm, aIn, aOut, aAdm, aT] = await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => freePort()));
    const authority = `${values.tcp ? 'tcp' : 'http1'}.bench:${originPort}`;
    const fl = (hop: string): string[] => [...flags, ...(buildFlags.get(name) ?? [])].map((f) => f.replace('%N', `${name}-${hop}`));
    const wb = start(process.execPath, [...fl('b'), entry, '--log-level', 'warn', '--key-file', b.keyFile, '--cert-file', b.certFile, '--trust-anchors-file', b.trustAnchorsFile,
      '--inbound-addr', `127.0.0.1:${bIn}`, '--outbound-addr', `127.0.0.1:${bOut}`, '--admin-addr', `127.0.0.1:${bAdm}`, '--inbound-forward-port', String(originPort), ...pargs]);
    const wa = start(process.execPath, [...fl('a'), entry, '--log-level', 'warn', '--key-file', a.keyFile, '--cert-file', a.certFile, '--trust-anchors-file', a.trustAnchorsFile,
      '--inbound-addr', `127.0.0.1:${aIn}`, '--outbound-addr', `127.0.0.1:${aOut}`, '--admin-addr', `127.0.0.1:${aAdm}`,
      '--outbound-target', `${aT}=${authority}`, ...(values.tcp ? ['--opaque-ports', String(originPort)] : []), '--dst', `${authority}=127.0.0.1:${bIn}#${b.identity}`, ...pargs]);
    await Promise.all([waitPort(aT!), waitPort(bIn!)]);
    targets.push({ name, url: `http://127.0.0.1:${aT}/`, pids: [wa.pid!, wb.pid!], admins: [aAdm!, bAdm!] });
    process.stderr.write(`${name}: a=${wa.pid} b=${wb.pid} admin a=${aAdm} b=${bAdm}\n`);
  }
  if (!values.nohap) {
    const [la, lb] = [await freePort(), await freePort()];
    const head = `global\n  nbthread 1\n  maxconn 5000\n  ssl-server-verify required\ndefaults\n  mode ${values.tcp ? 'tcp' : 'http'}\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n${values.tcp ? '' : '  option http-keep-alive\n  http-reuse always\n'}`;
    const dir = join(ROOT, 'bench/results/h1p');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ha.cfg'), `${head}frontend fa\n  bind 127.0.0.1:${la}\n  default_backend ba\nbackend ba\n  server b 127.0.0.1:${lb} ssl crt ${pki.combinedPem(a)} ca-file ${pki.caCert} verify required verifyhost ${b.identity} sni str(${b.identity})\n`);
    writeFileSync(join(dir, 'hb.cfg'), `${head}frontend fb\n  bind 127.0.0.1:${lb} ssl crt ${pki.combinedPem(b)} ca-file ${pki.caCert} verify required\n  default_backend bb\nbackend bb\n  server s 127.0.0.1:${originPort}\n`);
    const ha = start('haproxy', ['-db', '-f', join(dir, 'ha.cfg')]);
    const hb = start('haproxy', ['-db', '-f', join(dir, 'hb.cfg')]);
    await Promise.all([waitPort(la), waitPort(lb)]);
    targets.push({ name: 'haproxy', url: `http://127.0.0.1:${la}/`, pids: [ha.pid!, hb.pid!] });
  }
  const hold = Number(values.hold);
  if (hold > 0) {
    // Profiling mode: drive the first target for `hold` seconds at the first c, optionally perf record.
    const t = targets[0]!;
    const c = Number(values.c.split(',')[0]);
    await wrk(t.url, c, 1);
    const perf = values.perf !== '' ? spawn('perf', ['record', ...(process.env.PERF_DWARF ? ['--call-graph', 'dwarf,16384', '-F', '499'] : ['-g']), '-o', values.perf, '-p', t.pids.join(','), '--', 'sleep', String(hold)], { stdio: 'inherit' }) : undefined;
    const before = t.pids.map(cpuTicks);
    const r = await wrk(t.url, c, hold);
    const ticks = t.pids.reduce((s, p, i) => s + cpuTicks(p) - before[i]!, 0);
    process.stdout.write(`${t.name} c${c} ${r.rps.toFixed(0)} req/s  ${((ticks / 100 / 2) * 1e6 / r.n).toFixed(1)} us/req/hop p99 ${r.p99} ${r.err}\n`);
    if (perf) await new Promise((r2) => perf.on('close', r2));
    for (const adm of t.admins ?? []) {
      const text = await (await fetch(`http://127.0.0.1:${adm}/metrics`)).text();
      process.stdout.write(text.split('\n').filter((l) => /^(tcp_open_total|request_total|response_total)/.test(l)).join('\n') + '\n');
    }
  } else {
    const res: Record<string, Array<{ rps: number; cpu: number; p99: number; rss: number }>> = {};
    /** VmHWM of a process in MB; writing 5 to clear_refs resets it to the current RSS. */
    const peakMb = (pid: number): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const c of values.c.split(',').map(Number)) {
        for (const t of targets) {
          await wrk(t.url, c, 1);
          const before = t.pids.map(cpuTicks);
          const sbefore = t.pids.map((p) => cpuTimes(p).system);
          for (const p of t.pids) writeFileSync(`/proc/${p}/clear_refs`, '5');
          const r = await wrk(t.url, c, Number(values.dur));
          const rss = Math.max(...t.pids.map(peakMb));
          const ticks = t.pids.reduce((s, p, i) => s + cpuTicks(p) - before[i]!, 0);
          const sticks = t.pids.reduce((s, p, i) => s + cpuTimes(p).system - sbefore[i]!, 0);
          const cpu = (ticks / 100 / 2) * 1e6 / r.n;
          process.stderr.write(`    sys ${((sticks / 100 / 2) * 1e6 / r.n).toFixed(1)} us/req/hop\n`);
          (res[`${t.name} c${c}`] ??= []).push({ rps: r.rps, cpu, p99: r.p99, rss });
          process.stderr.write(`  ${t.name} c${c}: ${r.rps.toFixed(0)} req/s ${cpu.toFixed(1)} us p99 ${r.p99} rss ${rss.toFixed(1)} MB ${r.err}\n`);
        }
      }
    }
    const med = (v: number[]): number => v.sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
    for (const [k, v] of Object.entries(res)) {
      process.stdout.write(`${k.padEnd(16)} rps ${med(v.map((x) => x.rps)).toFixed(0).padStart(6)}  cpu ${med(v.map((x) => x.cpu)).toFixed(1).padStart(5)} us  p99 ${med(v.map((x) => x.p99)).toFixed(2)} ms  rss ${med(v.map((x) => x.rss)).toFixed(1)} MB   [cpu ${v.map((x) => x.cpu.toFixed(1)).join(' ')}]\n`);
    }
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  pki.remove();
}
