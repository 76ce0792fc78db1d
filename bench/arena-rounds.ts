/**
 * Memory under connection churn for the HTTP/1 path: a weft proxy pair per source
 * tree (bench/dataplane.ts's topology, wrk → hop A → hop B → origin, the platform's
 * node flags), driven by consecutive `wrk -t1` rounds alternating between the pairs,
 * printing each hop's `[heap]` Rss (glibc's main arena, from /proc/<pid>/smaps) and
 * RssAnon after every round. Memory grown in one round and not returned shows as a
 * rising series (bench/README.md, item 36).
 *
 *   git archive HEAD~1 src | tar -x -C /tmp/before
 *   node bench/arena-rounds.ts --build before=/tmp/before --build after=. --rounds 6
 *   node bench/arena-rounds.ts --build after=. --rounds 5 --close     (a new client connection per request)
 *
 * `--build name=root`: a tree holding src/ (built lean into bench/results/h1p/);
 * `--c` connections (64), `--dur` s per round (4), `--rounds` (6), `--close` sends
 * `Connection: close`, `--flags` node flags for the proxies (the platform's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROXY_NODE_FLAGS } from '../src/platform/index.ts';
import { mainArenaMb } from '../test/proxy/memory.ts';
import { TestPki } from '../test/proxy/pki-fixture.ts';
import { buildLean } from './build-lean.ts';
import { cpuTicks, freePort, run, waitPort } from './processes.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: {
  build: { type: 'string', multiple: true, default: [] },
  c: { type: 'string', default: '64' }, dur: { type: 'string', default: '4' }, rounds: { type: 'string', default: '6' },
  close: { type: 'boolean', default: false }, flags: { type: 'string', default: PROXY_NODE_FLAGS.join(' ') },
} });

/** MB of the main arena (`[heap]` Rss) and of all anonymous memory of `pid`. */
function memory(pid: number): { heap: number; anon: number } {
  const anon = Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return { heap: mainArenaMb(pid), anon: anon / 1024 };
}

const children: ChildProcess[] = [];
const start = (args: string[]): ChildProcess => {
  const c = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(c);
  return c;
};
const pki = new TestPki('arena');
try {
  const originPort = await freePort();
  start([join(ROOT, 'bench/origin.ts'), `h1:${originPort}`]);
  await waitPort(originPort);
  const a = pki.leaf('client');
  const b = pki.leaf('web');
  const flags = values.flags.split(' ').filter((f) => f !== '');
  const pairs: Array<{ name: string; url: string; pids: [number, number]; lines: string[] }> = [];
  for (const spec of values.build) {
    const [name, rootArg] = spec.split('=') as [string, string];
    const entry = buildLean('src/cli/proxy.ts', join(ROOT, 'bench/results/h1p', `arena-${name.replace(/[^a-z]/g, '')}`), resolve(rootArg));
    const [bIn, bOut, bAdm, aIn, aOut, aAdm, aT] = await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => freePort()));
    const authority = `http1.bench:${originPort}`;
    const hb = start([...flags, entry, '--log-level', 'warn', '--key-file', b.keyFile, '--cert-file', b.certFile, '--trust-anchors-file', b.trustAnchorsFile,
      '--inbound-addr', `127.0.0.1:${bIn}`, '--outbound-addr', `127.0.0.1:${bOut}`, '--admin-addr', `127.0.0.1:${bAdm}`, '--inbound-forward-port', String(originPort)]);
    const ha = start([...flags, entry, '--log-level', 'warn', '--key-file', a.keyFile, '--cert-file', a.certFile, '--trust-anchors-file', a.trustAnchorsFile,
      '--inbound-addr', `127.0.0.1:${aIn}`, '--outbound-addr', `127.0.0.1:${aOut}`, '--admin-addr', `127.0.0.1:${aAdm}`,
      '--outbound-target', `${aT}=${authority}`, '--dst', `${authority}=127.0.0.1:${bIn}#${b.identity}`]);
    await Promise.all([waitPort(aT!), waitPort(bIn!)]);
    pairs.push({ name, url: `http://127.0.0.1:${aT}/`, pids: [ha.pid!, hb.pid!], lines: [] });
  }
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const p of pairs) {
      const before = p.pids.map(cpuTicks);
      const out = await run('wrk', ['-t1', `-c${values.c}`, `-d${values.dur}s`, ...(values.close ? ['-H', 'Connection: close'] : []), p.url]);
      const n = Number(/(\d+) requests in/.exec(out)?.[1]);
      const ticks = p.pids.reduce((s, pid, i) => s + cpuTicks(pid) - before[i]!, 0);
      await new Promise((r) => setTimeout(r, 300)); // Closing connections settle.
      const [ma, mb] = p.pids.map(memory) as [{ heap: number; anon: number }, { heap: number; anon: number }];
      const line = `round ${round}: A heap ${ma.heap.toFixed(1)} anon ${ma.anon.toFixed(1)} | B heap ${mb.heap.toFixed(1)} anon ${mb.anon.toFixed(1)} MB | ${n} requests, ${((ticks / 200) * 1e6 / n).toFixed(1)} µs/req/hop`;
      p.lines.push(line);
      process.stderr.write(`${p.name} ${line}\n`);
    }
  }
  for (const p of pairs) process.stdout.write(`${p.name}:\n  ${p.lines.join('\n  ')}\n`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1000));
  pki.remove();
}
