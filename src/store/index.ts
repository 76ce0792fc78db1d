/**
 * The platform's state: `ResourceStore` (get, list, apply with resourceVersion,
 * updateStatus, delete with owner cascade, watch from a resourceVersion) and its
 * embedded backend, a SQLite file under the state directory shared by processes.
 */
export { ConflictError, ERR_CONFLICT, ERR_GONE, ERR_NOT_FOUND, GoneError, NotFoundError } from './errors.ts';
export { matchesLabels, parseLabelSelector, type LabelRequirement, type LabelSelector } from './label-selector.ts';
export { recordEvent, type EventInput } from './record-event.ts';
export type {
  ApplyOutcome, ApplyResult, ListOptions, ListResult, ResourceStore, StatusInput, Stored, StoredKind, WatchEvent, WatchOptions,
} from './resource-store.ts';
export { STORE_FILE, SqliteStore, openStore, type OpenStoreOptions } from './sqlite-store.ts';
export { STATE_DIR_ENV, resolveStateDir, type StateDirContext } from './state-dir.ts';
