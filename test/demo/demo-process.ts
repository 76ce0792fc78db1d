/**
 * Test helper: runs one demo program as `weft demo-app NAME`, the way the platform
 * and Kubernetes run it, and waits (bounded) for the lines it logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

const WEFT = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

/** A running demo program. */
export type DemoProcess = {
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Waits until a line matches `re`, and returns the match. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with how it exited, once it has. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM and resolves with how it exited. */
  terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** Starts `weft demo-app name` with `env` on top of this process's environment. */
export function startDemoProcess(name: string, env: Record<string, string>): DemoProcess {
  const child = spawn(process.execPath, [WEFT, 'demo-app', name], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    exited,
    output: () => out,
    async waitFor(re, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(re);
        if (m !== null) return m;
        if (child.exitCode !== null) throw new Error(`demo-app ${name} exited (${child.exitCode}) before ${re}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} from demo-app ${name}:\n${out}`);
        await delay(20);
      }
    },
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Starts a program that listens and resolves once it logs its address. */
export async function startListening(name: string, env: Record<string, string>): Promise<DemoProcess & { port: number }> {
  const p = startDemoProcess(name, env);
  const m = await p.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  return Object.assign(p, { port: Number(m[1]) });
}
