/**
 * What every data-plane benchmark needs from the machine: free ports, waiting for a
 * listener, a process's CPU ticks, and a command's output. One copy for
 * bench/dataplane.ts and the A/B harnesses (bench/http1-ab.ts, bench/h2-ab.ts).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { TestContext } from 'node:test';

/** Kernel clock ticks per second (`getconf CLK_TCK`; 100 on Linux x86-64). */
export const CLK_TCK = 100;

/** An ephemeral port on 127.0.0.1, never one already in `taken` (which it joins). */
export async function freePort(taken: Set<number> = new Set()): Promise<number> {
  for (;;) {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const p = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    if (!taken.has(p)) {
      taken.add(p);
      return p;
    }
  }
}

/** Resolves once 127.0.0.1:`port` accepts connections (10 s at most). */
export async function waitPort(port: number): Promise<void> {
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

/** utime and stime of a process, in clock ticks, from /proc/<pid>/stat. */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]), system: Number(f[12]) };
}

/** CPU ticks (user + system) a process has used. */
export function cpuTicks(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/** Runs `cmd` to completion; resolves with its stdout and stderr together. */
export function run(cmd: string, args: string[]): Promise<string> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve) => child.on('close', () => resolve(out)));
}

/** A duration as wrk prints it (`812.00us`, `1.20ms`, `2.01s`), in milliseconds. */
export function wrkMs(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

/**
 * A stand-in for node:test's context, so a probe can start meshes with
 * test/proxy/harness.ts outside a test: `t.after` collects teardowns, and `close()`
 * runs them newest first, ignoring their failures (the process exits next).
 */
export function probeContext(): { t: TestContext; close(): Promise<void> } {
  const afters: Array<() => unknown> = [];
  return {
    t: { after: (f: () => unknown) => afters.push(f) } as unknown as TestContext,
    close: async () => {
      for (const f of afters.reverse()) {
        try {
          await f();
        } catch {
          // Best effort: the process exits next.
        }
      }
    },
  };
}
