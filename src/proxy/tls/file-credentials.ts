/**
 * Credentials read from three PEM files, re-read when their contents change.
 *
 * Polls (default every 2 s) instead of fs.watch: Kubernetes secret volumes swap a
 * symlinked directory, editors rename over files, and fs.watch misses both in
 * different ways; reading three small files every few seconds costs nothing.
 */
import { readFileSync } from 'node:fs';
import { WeftError } from '../../errors/index.ts';
import type { Credentials, CredentialsProvider } from './credentials.ts';

/** Files holding a workload's credentials. */
export type CredentialFiles = {
  /** Private key, PEM. */
  keyFile: string;
  /** Certificate chain, leaf first, PEM. */
  certFile: string;
  /** Trust anchors, PEM. */
  trustAnchorsFile: string;
};

/** A `CredentialsProvider` over files, with `reload()` for an immediate re-read. */
export type FileCredentials = CredentialsProvider & {
  /** Re-reads the files now; returns true when the credentials changed. */
  reload(): boolean;
  /** Stops polling. */
  close(): void;
};

/**
 * Reads `files` now (throws a `WeftError` with code `WEFT_ERR_PROXY_CREDENTIALS` when
 * one cannot be read) and then every `pollMs` (default 2000; 0 disables polling).
 * A failed re-read keeps the last good credentials.
 */
export function fileCredentials(files: CredentialFiles, options: { pollMs?: number } = {}): FileCredentials {
  let current: Credentials = read(files);
  const listeners = new Set<() => void>();
  const reload = (): boolean => {
    let next: Credentials;
    try {
      next = read(files);
    } catch {
      return false;
    }
    if (next.key === current.key && next.certChain === current.certChain && next.trustAnchors === current.trustAnchors) return false;
    current = next;
    for (const cb of listeners) cb();
    return true;
  };
  const pollMs = options.pollMs ?? 2000;
  const timer = pollMs > 0 ? setInterval(reload, pollMs) : undefined;
  timer?.unref();
  return {
    current: () => current,
    onChange(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    reload,
    close: () => clearInterval(timer),
  };
}

function read(files: CredentialFiles): Credentials {
  const one = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new WeftError('WEFT_ERR_PROXY_CREDENTIALS', `Check the ${what} file "${path}": ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    key: one(files.keyFile, 'key'),
    certChain: one(files.certFile, 'certificate'),
    trustAnchors: one(files.trustAnchorsFile, 'trust anchors'),
  };
}
