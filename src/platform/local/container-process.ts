import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeSync } from 'node:fs';
import { restartDelay, type RestartBackoffOptions } from './backoff.ts';
import { commandPath } from './run-command.ts';

/** What one supervised process is doing, for the pod's containerStatuses. */
export type ProcessState =
  | { readonly kind: 'running'; readonly pid: number; readonly startedAt: Date }
  | { readonly kind: 'waiting'; readonly reason: 'ContainerCreating' | 'CrashLoopBackOff'; readonly message?: string }
  | { readonly kind: 'stopped' };

/** Options of {@link ContainerProcess}. */
export interface ContainerProcessOptions {
  /** The network namespace to run in (`ip netns exec`). */
  readonly netns: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Appended to: stdout and stderr, plus a line per start and exit. */
  readonly logFile: string;
  /** Run as this uid/gid (setpriv), e.g. the proxy's 2102. Default: root. */
  readonly uid?: number;
  readonly cwd?: string;
  readonly backoff?: RestartBackoffOptions;
  /** Told about every start, exit and restart. */
  readonly onChange: () => void;
}

/**
 * One container's process, restarted with backoff when it exits, as the kubelet
 * does with restartPolicy Always:
 *
 *   start ─▶ running ─exit─▶ waiting (CrashLoopBackOff, delay doubles) ─▶ start
 *                 └─ ran ≥ resetAfter ─▶ the next delay starts from the first again
 */
export class ContainerProcess {
  readonly #options: ContainerProcessOptions;
  #child: ChildProcess | undefined;
  #state: ProcessState = { kind: 'waiting', reason: 'ContainerCreating' };
  #restarts = 0;
  #backoffStep = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #lastExit: { code: number | null; signal: string | null; at: Date } | undefined;

  constructor(options: ContainerProcessOptions) {
    this.#options = options;
  }

  /** Times the process was restarted after exiting. */
  get restarts(): number { return this.#restarts; }
  get state(): ProcessState { return this.#state; }
  /** How the process last ended, if it did. */
  get lastExit(): { code: number | null; signal: string | null; at: Date } | undefined { return this.#lastExit; }
  /** The running process id, if any. */
  get pid(): number | undefined { return this.#state.kind === 'running' ? this.#state.pid : undefined; }

  /** Starts the process (and keeps it running until {@link stop}). */
  start(): void {
    if (this.#stopping) return;
    const o = this.#options;
    const fd = openSync(o.logFile, 'a');
    const asUser = o.uid === undefined ? [] : ['setpriv', `--reuid=${o.uid}`, `--regid=${o.uid}`, '--clear-groups', '--inh-caps=-all'];
    const child = spawn('ip', ['netns', 'exec', o.netns, ...asUser, ...o.argv], {
      stdio: ['ignore', fd, fd],
      env: { PATH: commandPath(), ...o.env },
      ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    });
    closeSync(fd);
    const startedAt = new Date();
    this.#child = child;
    child.once('error', (err) => this.#log(`weft: cannot start: ${err.message}`));
    child.once('exit', (code, signal) => this.#exited(child, startedAt, code, signal));
    if (child.pid !== undefined) this.#state = { kind: 'running', pid: child.pid, startedAt };
    o.onChange();
  }

  #exited(child: ChildProcess, startedAt: Date, code: number | null, signal: string | null): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#lastExit = { code, signal, at: new Date() };
    if (this.#stopping) {
      this.#state = { kind: 'stopped' };
      this.#options.onChange();
      return;
    }
    const ran = Date.now() - startedAt.getTime();
    if (ran >= (this.#options.backoff?.resetAfterMs ?? 60_000)) this.#backoffStep = 0;
    const delay = restartDelay(this.#backoffStep++, this.#options.backoff);
    const why = signal !== null ? `killed by ${signal}` : `exited with code ${code ?? '?'}`;
    this.#log(`weft: process ${why}; restarting in ${delay} ms`);
    this.#state = { kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${delay}ms restarting: ${why}` };
    this.#options.onChange();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#restarts++;
      this.start();
    }, delay);
  }

  /** Stops the process: SIGTERM, then SIGKILL after `graceMs`; no more restarts. */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      this.#state = { kind: 'stopped' };
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(kill);
  }

  #log(line: string): void {
    try {
      const fd = openSync(this.#options.logFile, 'a');
      writeSync(fd, `${line}\n`);
      closeSync(fd);
    } catch {
      // the log directory is gone: the mesh is being torn down
    }
  }
}
