/**
 * Test helpers: throwaway network namespaces (unique names, deleted even when a
 * test fails) and the weft CLI run inside them.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** The repository root, whatever the current directory. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEFT = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export function sh(argv: readonly string[]): string {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new TypeError('sh() needs a command');
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A short random tag; interface names are limited to 15 characters. */
export function tag(): string {
  return randomBytes(3).toString('hex');
}

/** Creates a namespace with loopback up, deleted when the test ends (pass or fail). */
export function netns(t: TestContext, label: string): string {
  const name = `weft-pi-${label}-${process.pid}-${tag()}`;
  sh(['ip', 'netns', 'add', name]);
  t.after(() => {
    spawnSync('ip', ['netns', 'del', name]);
  });
  sh(['ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return name;
}

/** The result of one CLI run. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `weft ARGS` inside `ns` (as `ip netns exec`, the main path), optionally under a wrapper such as setpriv. */
export function weftIn(ns: string, args: readonly string[], wrapper: readonly string[] = []): CliResult {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...wrapper, process.execPath, WEFT, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `weft ARGS` in the current namespace. */
export function weft(args: readonly string[]): CliResult {
  const r = spawnSync(process.execPath, [WEFT, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * weft's rules in one backend, as `iptables-save` prints them (both families,
 * counters dropped: ":WEFT_INBOUND -"), to compare runs.
 */
export function weftRules(ns: string, backend: 'legacy' | 'nft'): string[] {
  const lines: string[] = [];
  for (const bin of [`iptables-${backend}-save`, `ip6tables-${backend}-save`]) {
    const out = sh(['ip', 'netns', 'exec', ns, bin, '-t', 'nat']);
    for (const line of out.split('\n')) {
      if (line.includes('WEFT_')) lines.push(`${bin.startsWith('ip6') ? '6' : '4'} ${line.replace(/ \[\d+:\d+\]$/, '')}`);
    }
  }
  return lines;
}

/**
 * Starts a long-running node child inside `ns` and resolves once it printed
 * "ready"; killed when the test ends.
 */
export async function startIn(t: TestContext, ns: string, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    child.kill('SIGKILL');
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not get ready within 10 s: ${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before it was ready: ${output}`));
    });
  });
  return child;
}

// Plain node:net, passed with -e, so it runs as any uid without reading our files.
const CLIENT = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port), timeout: 5000 });
let out = '';
s.on('data', (d) => { out += d; });
s.on('end', () => { process.stdout.write(out); });
s.on('timeout', () => { process.stderr.write('timeout'); process.exit(3); });
s.on('error', (e) => { process.stderr.write(e.code || e.message); process.exit(4); });
`;

/** Connects from inside `ns` (optionally as `uid`) and returns what the server said. */
export function connectFrom(ns: string, host: string, port: number, uid?: number): string {
  const asUid = uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
  const r = spawnSync('ip', ['netns', 'exec', ns, ...asUid, process.execPath, '-e', CLIENT, host, String(port)], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (r.status !== 0) throw new Error(`client ${host}:${port} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
