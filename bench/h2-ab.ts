/**
 * A/B of weft proxy builds on HTTP/2 or gRPC: one proxy pair per build (client →
 * A → mTLS → B → origin, as in dataplane.ts), h2load runs alternating between the
 * pairs (order reversed every round), CPU µs per request per hop from /proc. On a
 * shared machine the load moves between runs; alternating short runs puts the
 * builds under the same load, which comparing two full benchmark runs does not.
 *
 *   node bench/build-lean.ts src/cli/proxy.ts /tmp/ab/new        # this tree
 *   (cd OLD_CHECKOUT && node /work/main/bench/build-lean.ts src/cli/proxy.ts /tmp/ab/old)
 *   ln -s "$PWD/node_modules" /tmp/ab/node_modules
 *   node bench/h2-ab.ts --builds /tmp/ab/old,/tmp/ab/new --protocol grpc --connections 16 --rounds 8
 *
 * A build may carry node flags after an `@`: `/tmp/ab/new@--max-semi-space-size=1`.
 * Also printed: the larger hop's peak RSS per round (VmHWM, reset before each run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TestPki } from '../test/proxy/pki-fixture.ts';
import { CLK_TCK, cpuTicks, freePort, run, waitPort } from './processes.ts';
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      builds: { type: 'string' },
      protocol: { type: 'string', default: 'h2' },
      connections: { type: 'string', default: '64' },
      rounds: { type: 'string', default: '6' },
      duration: { type: 'string', default: '3' },
    },
  });
  const builds = (values.builds ?? '').split(',').filter((b) => b !== '');
  if (builds.length === 0) throw new Error('Pass --builds DIR[,DIR…] (outputs of bench/build-lean.ts)');
  const grpc = values.protocol === 'grpc';
  const children: ChildProcess[] = [];
  const start = (cmd: string, args: string[]): ChildProcess => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(c);
    return c;
  };
  const pki = new TestPki('h2ab');
  try {
    const grpcBody = join(pki.dir, 'grpc-request.bin');
    writeFileSync(grpcBody, Buffer.from([0, 0, 0, 0, 2, 0x68, 0x69]));
    const taken = new Set<number>();
    const port = (): Promise<number> => freePort(taken);
    const origin = await port();
    start(process.execPath, [join(import.meta.dirname, 'origin.ts'), `h2:${origin}`]);
    await waitPort(origin);
    const a = pki.leaf('client');
    const b = pki.leaf('web');
    const pairs: { name: string; url: string; pids: number[] }[] = [];
    for (const spec of builds) {
      const [dir, flags = ''] = spec.split('@') as [string, string?];
      const nodeFlags = flags.split(' ').filter((f) => f !== '');
      const entry = join(dir, 'src/cli/proxy.js');
      const [bIn, target] = [await port(), await port()];
      const authority = `h2.bench:${origin}`;
      const wb = start(process.execPath, [...nodeFlags, entry, '--log-level', 'warn', '--key-file', b.keyFile, '--cert-file', b.certFile, '--trust-anchors-file', b.trustAnchorsFile,
        '--inbound-addr', `127.0.0.1:${bIn}`, '--outbound-addr', `127.0.0.1:${await port()}`, '--admin-addr', `127.0.0.1:${await port()}`, '--inbound-forward-port', String(origin)]);
      const wa = start(process.execPath, [...nodeFlags, entry, '--log-level', 'warn', '--key-file', a.keyFile, '--cert-file', a.certFile, '--trust-anchors-file', a.trustAnchorsFile,
        '--inbound-addr', `127.0.0.1:${await port()}`, '--outbound-addr', `127.0.0.1:${await port()}`, '--admin-addr', `127.0.0.1:${await port()}`,
        '--outbound-target', `${target}=${authority}`, '--dst', `${authority}=127.0.0.1:${bIn}#${b.identity}`]);
      await Promise.all([waitPort(target), waitPort(bIn)]);
      pairs.push({ name: spec, url: `http://127.0.0.1:${target}/${grpc ? 'bench.Echo/Say' : ''}`, pids: [wa.pid!, wb.pid!] });
    }
    const h2load = async (url: string, seconds: number): Promise<{ rps: number; done: number; failed: number }> => {
      const args = ['-t1', `-c${values.connections}`, '-m1', `-D${seconds}`];
      if (grpc) args.push('-d', grpcBody, '-H', 'content-type: application/grpc', '-H', 'te: trailers');
      const out = await run('h2load', [...args, url]);
      const m = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
      return { rps: Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN), done: Number(m?.[1] ?? 0), failed: Number(m?.[3] ?? 0) + Number(m?.[4] ?? 0) };
    };
    for (const p of pairs) await h2load(p.url, 1);
    const cpu = new Map<string, number[]>();
    const rps = new Map<string, number[]>();
    const rss = new Map<string, number[]>();
    /** VmHWM of a process in MB; writing 5 to clear_refs resets it to the current RSS. */
    const peakMb = (pid: number): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const p of r % 2 === 0 ? pairs : [...pairs].reverse()) {
        const before = p.pids.map(cpuTicks);
        for (const pid of p.pids) writeFileSync(`/proc/${pid}/clear_refs`, '5');
        const x = await h2load(p.url, Number(values.duration));
        rss.set(p.name, [...(rss.get(p.name) ?? []), Math.max(...p.pids.map(peakMb))]);
        const ticks = p.pids.reduce((s, pid, i) => s + cpuTicks(pid) - before[i]!, 0);
        if (x.failed > 0) process.stderr.write(`${p.name}: ${x.failed} failed\n`);
        cpu.set(p.name, [...(cpu.get(p.name) ?? []), (ticks / CLK_TCK / p.pids.length) * 1e6 / x.done]);
        rps.set(p.name, [...(rps.get(p.name) ?? []), x.rps]);
      }
    }
    for (const p of pairs) {
      const c = cpu.get(p.name)!;
      const q = rps.get(p.name)!;
      process.stdout.write(`${values.protocol} c${values.connections} ${p.name}: CPU µs/req/hop median ${median(c).toFixed(1)} [${c.map((x) => x.toFixed(1)).join(' ')}]`
        + ` req/s median ${median(q).toFixed(0)} [${q.map((x) => x.toFixed(0)).join(' ')}]`
        + ` peak RSS MB median ${median(rss.get(p.name)!).toFixed(1)} [${rss.get(p.name)!.map((x) => x.toFixed(1)).join(' ')}]\n`);
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    pki.remove();
  }
}

await main();
