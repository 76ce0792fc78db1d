/**
 * Shared by the PKI integration tests: temporary directories that clean up, the
 * `weft` CLI as a subprocess, and openssl as the independent judge.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';

/** Absolute path of the `weft` entry point in this checkout. */
export const WEFT = resolve(import.meta.dirname, '../../bin/weft.js');

/** A fresh directory removed after the test, even when it fails. */
export function tempDir(t: TestContext, prefix = 'weft-pki-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What a subprocess did. */
export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `weft ARGS…` with the project's node in `cwd`, never interactive. */
export function weft(cwd: string, args: readonly string[]): Ran {
  const r = spawnSync(process.execPath, [WEFT, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `openssl ARGS…` in `cwd`; fails the test loudly when openssl is missing. */
export function openssl(cwd: string, args: readonly string[], input?: string): Ran {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', input: input ?? '' });
  if (r.error !== undefined) throw new Error(`Install openssl (Debian package "openssl"): ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like {@link weft}, but throws with the output when the command did not succeed. */
export function weftOk(cwd: string, args: readonly string[]): Ran {
  const r = weft(cwd, args);
  if (r.status !== 0) throw new Error(`weft ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r;
}
