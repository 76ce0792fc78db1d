import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Directory under the state dir where the running mesh keeps its files. */
export const PLATFORM_DIR = 'platform';
const RECORD_FILE = 'mesh.json';

/**
 * What a running mesh has created, on disk so that `weft down`, and the next
 * `weft up` after a crash, know what to remove. (Teardown also finds objects by
 * the mesh's name prefix, so a crash between creating and recording leaks nothing.)
 */
export interface MeshRecord {
  readonly meshId: string;
  /** The supervisor (`weft up`) process. */
  readonly pid: number;
  readonly addressIndex: number;
  readonly bridge: string;
  readonly netns: readonly string[];
  /** Every desired pod exists and is ready (what `--detach` waits for). */
  readonly ready: boolean;
  /** One line per pod: `ns/name ip`, for `weft up --detach` to print. */
  readonly pods: readonly string[];
  /** Set when the supervisor failed to start, so a waiting `--detach` can say why. */
  readonly error?: string;
  readonly controlPlane?: { readonly identity: string; readonly admin: string };
  /** The dashboard's URL (`http://127.0.0.1:50750/`), when `weft up` serves it. */
  readonly dashboard?: string;
}

/** `<stateDir>/platform`. */
export function platformDir(stateDir: string): string {
  return join(stateDir, PLATFORM_DIR);
}

/** The record, or undefined when no mesh ran (or it was stopped cleanly). */
export function readMeshRecord(stateDir: string): MeshRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(platformDir(stateDir), RECORD_FILE), 'utf8')) as MeshRecord;
  } catch {
    return undefined;
  }
}

/** Writes the record atomically (rename), so a reader never sees half of it. */
export function writeMeshRecord(stateDir: string, record: MeshRecord): void {
  const dir = platformDir(stateDir);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${RECORD_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, join(dir, RECORD_FILE));
}

/** Removes the record. */
export function removeMeshRecord(stateDir: string): void {
  rmSync(join(platformDir(stateDir), RECORD_FILE), { force: true });
}

/** True when `pid` is a live `weft` process (not a reused pid of something else). */
export function isWeftProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /weft|node/.test(cmdline);
  } catch {
    return false;
  }
}
