import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** What a command printed and how it exited; 127 when it could not be started. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Everything proxy-init does to the machine goes through a Host, so tests can
 * wrap the real one (for example to make one command fail and watch the rollback).
 */
export interface Host {
  /** Runs `argv` in the target network namespace. */
  run(argv: readonly string[]): Promise<RunResult>;
  /** Reads a file as seen from the target namespace (`/proc/sys/net/...`); undefined if absent. */
  readFile(path: string): Promise<string | undefined>;
  /** Full path of an executable, or undefined when it is not installed. */
  findBinary(name: string): Promise<string | undefined>;
  /** The text of `/proc/self/status` of the process whose children run the commands. */
  processStatus(): Promise<string>;
}

/** Options of {@link systemHost}. */
export interface SystemHostOptions {
  /** Run every command under `ip netns exec NAME` (default: the current namespace). */
  readonly netns?: string;
  /** Per-command limit; a wedged iptables lock must not hang init forever (default 30 s). */
  readonly timeoutMs?: number;
}

// iptables lives in sbin, which a non-login root shell or a container's PATH may lack.
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The real machine. */
export function systemHost(options: SystemHostOptions = {}): Host {
  const timeout = options.timeoutMs ?? 30_000;
  const prefix = options.netns !== undefined ? ['ip', 'netns', 'exec', options.netns] : [];
  const path = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  const env = { ...process.env, PATH: path.join(delimiter), LC_ALL: 'C' };

  const run = (argv: readonly string[]): Promise<RunResult> => new Promise((resolve) => {
    const [cmd, ...args] = [...prefix, ...argv];
    if (cmd === undefined) throw new TypeError('run() needs a command');
    execFile(cmd, args, { timeout, env, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      const code = typeof err.code === 'number' ? err.code : 127;
      resolve({ code, stdout, stderr: stderr || err.message });
    });
  });

  return {
    run,
    async readFile(file) {
      if (options.netns === undefined) return readFile(file, 'utf8').catch(() => undefined);
      const r = await run(['cat', file]);
      return r.code === 0 ? r.stdout : undefined;
    },
    async findBinary(name) {
      for (const dir of path) {
        const full = join(dir, name);
        try {
          await access(full, constants.X_OK);
          return full;
        } catch {
          // not here; keep looking
        }
      }
      return undefined;
    },
    processStatus: () => readFile('/proc/self/status', 'utf8'),
  };
}
