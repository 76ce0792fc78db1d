import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  DEFAULT_NAMESPACE, assertValidResource, kindDefinition, knownKindsText, qualifiedPlural,
  type KindDefinition, type ObjectMeta, type Resource, type ResourceInput,
} from '../api/index.ts';
import { UsageError } from '../errors/index.ts';
import { canonicalJson } from './canonical-json.ts';
import { ConflictError, GoneError, NotFoundError } from './errors.ts';
import { matchesLabels, parseLabelSelector } from './label-selector.ts';
import type {
  ApplyResult, ListOptions, ListResult, ResourceStore, StatusInput, Stored, StoredKind, WatchEvent, WatchOptions,
} from './resource-store.ts';

/** File name of the embedded store inside the state directory. */
export const STORE_FILE = 'store.db';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Directory holding `store.db`; created (mode 0700: it holds private keys) when missing. */
  readonly stateDir: string;
  /** Stamps creationTimestamp and Event times. Default: real time. */
  readonly clock?: () => Date;
  /**
   * How often a watch looks for changes written by other processes. Default 100 ms:
   * SQLite tells a connection only about its own writes, so changes from another
   * process are found by reading the change log; an indexed `rv > ?` read of a WAL
   * database costs microseconds and never blocks a writer. Writes made through this
   * store object wake its watches at once.
   */
  readonly pollIntervalMs?: number;
  /**
   * Changes kept in the log for watches, deletion tombstones included. Default
   * 10 000: far more than a restarting controller misses; older ones are compacted
   * and a watch from before them gets a GoneError (list again, as with Kubernetes' 410).
   */
  readonly changeLogSize?: number;
  /** How long a writer waits for another process's transaction. Default 10 000 ms. */
  readonly busyTimeoutMs?: number;
}

interface ObjectRow { kind: string; namespace: string; name: string; uid: string; rv: number; body: string }
interface ChangeRow { rv: number; type: WatchEvent['type']; kind: string; namespace: string; body: string }

// Compaction runs when the counter crosses a multiple of this: often enough to keep
// the log near its size, rarely enough that writes do not pay for it.
const COMPACT_EVERY = 128;
const WATCH_BATCH = 500;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
  kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  uid TEXT NOT NULL UNIQUE, rv INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (kind, namespace, name)
);
CREATE INDEX IF NOT EXISTS objects_by_namespace ON objects (namespace);
CREATE TABLE IF NOT EXISTS changes (
  rv INTEGER PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL,
  namespace TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('rv', 0), ('compacted', 0), ('schema', 1);
`;

/**
 * Opens (creating when needed) the embedded store: one SQLite file in WAL mode
 * that several processes share. Every write is one `BEGIN IMMEDIATE` transaction
 * (object row + change-log row + resourceVersion counter), so a crash at any point
 * leaves either all of a write or none of it.
 */
export function openStore(options: OpenStoreOptions): SqliteStore {
  return new SqliteStore(options);
}

/** The embedded {@link ResourceStore} on node:sqlite. */
export class SqliteStore implements ResourceStore {
  readonly #db: DatabaseSync;
  readonly #clock: () => Date;
  readonly #pollMs: number;
  readonly #logSize: number;
  readonly #statements = new Map<string, StatementSync>();
  readonly #wakers = new Set<() => void>();
  #closed = false;

  constructor(options: OpenStoreOptions) {
    mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
    const file = join(options.stateDir, STORE_FILE);
    this.#db = new DatabaseSync(file);
    chmodSync(file, 0o600);
    this.#clock = options.clock ?? (() => new Date());
    this.#pollMs = options.pollIntervalMs ?? 100;
    this.#logSize = options.changeLogSize ?? 10_000;
    this.#db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 10_000)}`);
    this.#db.exec('PRAGMA journal_mode = WAL');
    // FULL: a committed write survives power loss too, not only a crash; writes are rare.
    this.#db.exec('PRAGMA synchronous = FULL');
    this.#write(() => {
      this.#db.exec(SCHEMA);
      // A new store has the "default" namespace, as a new Kubernetes cluster has.
      if (this.#row('Namespace', '', DEFAULT_NAMESPACE) === undefined) {
        this.#insertNew(kindDefinition('Namespace') as KindDefinition, {
          apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_NAMESPACE },
        });
      }
    });
  }

  now(): Date {
    return this.#clock();
  }

  async resourceVersion(): Promise<string> {
    return String(this.#counter('rv'));
  }

  async get<K extends string>(kind: K, name: string, namespace?: string): Promise<StoredKind<K> | undefined> {
    const def = this.#definition(kind);
    const row = this.#row(def.kind, def.namespaced ? (namespace ?? DEFAULT_NAMESPACE) : '', name);
    return row === undefined ? undefined : JSON.parse(row.body) as StoredKind<K>;
  }

  async list<K extends string>(kind: K, options: ListOptions = {}): Promise<ListResult<StoredKind<K>>> {
    const def = this.#definition(kind);
    const selector = typeof options.labelSelector === 'string'
      ? parseLabelSelector(options.labelSelector)
      : options.labelSelector ?? [];
    return this.#read(() => {
      const rows = options.namespace !== undefined && def.namespaced
        ? this.#stmt('SELECT body FROM objects WHERE kind = ? AND namespace = ? ORDER BY namespace, name')
          .all(def.kind, options.namespace)
        : this.#stmt('SELECT body FROM objects WHERE kind = ? ORDER BY namespace, name').all(def.kind);
      const items = rows
        .map((r) => JSON.parse((r as { body: string }).body) as Resource)
        .filter((o) => matchesLabels(selector, o.metadata.labels));
      return { items: items as StoredKind<K>[], resourceVersion: String(this.#counter('rv')) };
    });
  }

  async apply<T extends ResourceInput>(object: T): Promise<ApplyResult<Stored<T>>> {
    const { resource, definition: def } = assertValidResource(object);
    const namespace = def.namespaced ? (resource.metadata.namespace ?? DEFAULT_NAMESPACE) : '';
    const result = this.#write(() => {
      if (def.namespaced) this.#requireNamespace(namespace);
      const existing = this.#row(def.kind, namespace, resource.metadata.name);
      this.#checkPreconditions(def, resource.metadata, existing);
      if (existing === undefined) {
        return { object: this.#insertNew(def, { ...resource, metadata: { ...resource.metadata, namespace } }), outcome: 'created' as const };
      }
      return this.#update(def, resource, JSON.parse(existing.body) as Resource);
    });
    this.#wake();
    return result as ApplyResult<Stored<T>>;
  }

  async updateStatus<T extends StatusInput>(input: T): Promise<StoredKind<T['kind']>> {
    const def = this.#definition(input.kind);
    if (typeof input.status !== 'object' || input.status === null || Array.isArray(input.status)) {
      throw new UsageError(`Pass status as a mapping: ${def.kind} "${input.metadata.name}" got ${JSON.stringify(input.status)}`);
    }
    const namespace = def.namespaced ? (input.metadata.namespace ?? DEFAULT_NAMESPACE) : '';
    const result = this.#write(() => {
      const row = this.#row(def.kind, namespace, input.metadata.name);
      if (row === undefined) throw notFound(def, input.metadata.name, namespace);
      this.#checkPreconditions(def, input.metadata, row);
      const existing = JSON.parse(row.body) as Resource;
      if (canonicalJson(existing.status ?? null) === canonicalJson(input.status)) return existing;
      const rv = this.#nextRv();
      const next: Resource = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(rv) }, status: input.status };
      this.#store(next, namespace, rv, 'MODIFIED');
      return next;
    });
    this.#wake();
    return result as StoredKind<T['kind']>;
  }

  async delete(kind: string, name: string, namespace?: string, options: { resourceVersion?: string } = {}): Promise<Resource[]> {
    const def = this.#definition(kind);
    const ns = def.namespaced ? (namespace ?? DEFAULT_NAMESPACE) : '';
    if (def.kind === 'Namespace' && name === DEFAULT_NAMESPACE) {
      throw new UsageError(`Delete what is in namespace "${DEFAULT_NAMESPACE}" instead: that namespace may not be deleted`);
    }
    const deleted = this.#write(() => {
      const row = this.#row(def.kind, ns, name);
      if (row === undefined) return [];
      if (options.resourceVersion !== undefined && options.resourceVersion !== String(row.rv)) {
        throw conflict(def, name, options.resourceVersion, row.rv);
      }
      return this.#cascade(row);
    });
    if (deleted.length > 0) this.#wake();
    return deleted;
  }

  watch(options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    const kind = options.kind === undefined ? undefined : this.#definition(options.kind).kind;
    // Resolve "from now" at call time, not at the first next(), so nothing written in between is lost.
    const from = options.fromResourceVersion !== undefined ? Number(options.fromResourceVersion) : this.#counter('rv');
    if (!Number.isSafeInteger(from) || from < 0) {
      throw new UsageError(`Watch from a resourceVersion the store gave you: "${String(options.fromResourceVersion)}" is not one`);
    }
    return { [Symbol.asyncIterator]: () => this.#changes(from, kind, options) };
  }

  async *#changes(start: number, kind: string | undefined, options: WatchOptions): AsyncGenerator<WatchEvent> {
    let from = start;
    const stopped = (): boolean => this.#closed || options.signal?.aborted === true;
    while (!stopped()) {
      const { rows, rv, compacted } = this.#read(() => ({
        rows: this.#stmt('SELECT rv, type, kind, namespace, body FROM changes WHERE rv > ? ORDER BY rv LIMIT ?')
          .all(from, WATCH_BATCH) as unknown as ChangeRow[],
        rv: this.#counter('rv'),
        compacted: this.#counter('compacted'),
      }));
      if (from < compacted) {
        throw new GoneError(
          `List again and watch from the list's resourceVersion: resourceVersion "${from}" is older than the oldest kept change (${compacted})`,
        );
      }
      for (const row of rows) {
        from = row.rv;
        if (kind !== undefined && row.kind !== kind) continue;
        if (options.namespace !== undefined && row.namespace !== options.namespace) continue;
        yield { type: row.type, object: JSON.parse(row.body) as Resource };
        if (stopped()) return;
      }
      if (rows.length === WATCH_BATCH) continue;
      from = Math.max(from, rv);
      await this.#waitForChange(options.signal);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake();
    this.#db.close();
  }

  // ── writes ──────────────────────────────────────────────────────────────

  #insertNew(def: KindDefinition, resource: Resource): Resource {
    const rv = this.#nextRv();
    const now = this.#timestamp();
    const object = withMetadata(resource, {
      ...cleanMetadata(resource.metadata, def),
      uid: randomUUID(),
      resourceVersion: String(rv),
      generation: 1,
      creationTimestamp: now,
    });
    delete object.status;
    if (def.kind === 'Namespace') object.status = { phase: 'Active' };
    if (def.kind === 'Event') stampEvent(object, undefined, now);
    this.#store(object, def.namespaced ? (resource.metadata.namespace ?? DEFAULT_NAMESPACE) : '', rv, 'ADDED');
    return object;
  }

  #update(def: KindDefinition, incoming: Resource, existing: Resource): ApplyResult<Resource> {
    const now = this.#timestamp();
    const content = specOf(incoming);
    if (def.kind === 'Event') stampEvent(content, existing, now);
    const sameSpec = canonicalJson(content) === canonicalJson(specOf(existing));
    const meta = cleanMetadata(incoming.metadata, def);
    const sameMeta = (['labels', 'annotations', 'ownerReferences'] as const)
      .every((k) => canonicalJson(meta[k] ?? null) === canonicalJson(existing.metadata[k] ?? null));
    if (sameSpec && sameMeta) return { object: existing, outcome: 'unchanged' };
    const rv = this.#nextRv();
    const object: Resource = {
      apiVersion: existing.apiVersion,
      kind: existing.kind,
      metadata: {
        ...meta,
        uid: existing.metadata.uid as string,
        resourceVersion: String(rv),
        generation: (existing.metadata.generation ?? 1) + (sameSpec ? 0 : 1),
        creationTimestamp: existing.metadata.creationTimestamp as string,
      },
      ...content,
    };
    if (existing.status !== undefined) object.status = existing.status;
    this.#store(object, existing.metadata.namespace ?? '', rv, 'MODIFIED');
    return { object, outcome: 'configured' };
  }

  /** Deletes `row` and what it owns (or contains), depth-first, each with its own tombstone. */
  #cascade(first: ObjectRow): Resource[] {
    const deleted: Resource[] = [];
    const seen = new Set<string>();
    const queue: ObjectRow[] = [first];
    while (queue.length > 0) {
      const row = queue.shift() as ObjectRow;
      if (seen.has(row.uid)) continue;
      seen.add(row.uid);
      this.#stmt('DELETE FROM objects WHERE uid = ?').run(row.uid);
      const rv = this.#nextRv();
      const object = JSON.parse(row.body) as Resource;
      object.metadata.resourceVersion = String(rv);
      this.#log(rv, 'DELETED', row.kind, row.namespace, row.name, object);
      deleted.push(object);
      queue.push(...this.#stmt(
        `SELECT o.kind, o.namespace, o.name, o.uid, o.rv, o.body FROM objects o, json_each(o.body, '$.metadata.ownerReferences') r
         WHERE json_extract(r.value, '$.uid') = ? ORDER BY o.kind, o.name`,
      ).all(row.uid) as unknown as ObjectRow[]);
      if (row.kind === 'Namespace') {
        queue.push(...this.#stmt('SELECT kind, namespace, name, uid, rv, body FROM objects WHERE namespace = ? ORDER BY kind, name')
          .all(row.name) as unknown as ObjectRow[]);
      }
    }
    return deleted;
  }

  #store(object: Resource, namespace: string, rv: number, type: WatchEvent['type']): void {
    const body = JSON.stringify(object);
    this.#stmt(
      `INSERT INTO objects (kind, namespace, name, uid, rv, body) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, namespace, name) DO UPDATE SET uid = excluded.uid, rv = excluded.rv, body = excluded.body`,
    ).run(object.kind, namespace, object.metadata.name, object.metadata.uid as string, rv, body);
    this.#log(rv, type, object.kind, namespace, object.metadata.name, object);
  }

  #log(rv: number, type: WatchEvent['type'], kind: string, namespace: string, name: string, object: Resource): void {
    this.#stmt('INSERT INTO changes (rv, type, kind, namespace, name, body) VALUES (?, ?, ?, ?, ?, ?)')
      .run(rv, type, kind, namespace, name, JSON.stringify(object));
    if (rv % COMPACT_EVERY === 0 && rv > this.#logSize) {
      const through = rv - this.#logSize;
      this.#stmt('DELETE FROM changes WHERE rv <= ?').run(through);
      this.#stmt("UPDATE meta SET value = ? WHERE key = 'compacted' AND value < ?").run(through, through);
    }
  }

  #nextRv(): number {
    const row = this.#stmt("UPDATE meta SET value = value + 1 WHERE key = 'rv' RETURNING value").get() as { value: number };
    return row.value;
  }

  #checkPreconditions(def: KindDefinition, meta: Partial<ObjectMeta>, existing: ObjectRow | undefined): void {
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
      if (existing === undefined) {
        throw new ConflictError(
          `Remove metadata.resourceVersion to create ${def.kind} "${meta.name ?? ''}" again: it was deleted since you read it`,
        );
      }
      if (meta.resourceVersion !== String(existing.rv)) throw conflict(def, meta.name ?? '', meta.resourceVersion, existing.rv);
    }
    if (meta.uid !== undefined && existing !== undefined && meta.uid !== existing.uid) {
      throw new ConflictError(
        `Read ${def.kind} "${meta.name ?? ''}" again: it was deleted and re-created since you read it (uid "${meta.uid}" is now "${existing.uid}")`,
      );
    }
  }

  #requireNamespace(namespace: string): void {
    if (this.#row('Namespace', '', namespace) === undefined) {
      throw new NotFoundError(`Create namespace "${namespace}" first (weft create namespace ${namespace}): namespaces "${namespace}" not found`);
    }
  }

  // ── plumbing ────────────────────────────────────────────────────────────

  #definition(kind: string): KindDefinition {
    const def = kindDefinition(kind);
    if (def === undefined) throw new UsageError(`Use one of the kinds weft knows (${knownKindsText()}): "${kind}" is not one`);
    return def;
  }

  #row(kind: string, namespace: string, name: string): ObjectRow | undefined {
    return this.#stmt('SELECT kind, namespace, name, uid, rv, body FROM objects WHERE kind = ? AND namespace = ? AND name = ?')
      .get(kind, namespace, name) as ObjectRow | undefined;
  }

  #counter(key: 'rv' | 'compacted'): number {
    return (this.#stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: number }).value;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #timestamp(): string {
    // Kubernetes timestamps have second precision.
    return this.#clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** One write transaction. IMMEDIATE takes the write lock up front, so read-check-write cannot interleave with another process. */
  #write<T>(fn: () => T): T {
    if (this.#closed) throw new UsageError('Open the store again: it was closed');
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  /** One read transaction: a consistent snapshot (WAL readers never block writers). */
  #read<T>(fn: () => T): T {
    if (this.#closed) throw new UsageError('Open the store again: it was closed');
    this.#db.exec('BEGIN');
    try {
      return fn();
    } finally {
      this.#db.exec('COMMIT');
    }
  }

  #wake(): void {
    for (const w of [...this.#wakers]) w();
  }

  #waitForChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.#pollMs);
      this.#wakers.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** Everything but the envelope and status: what generation tracks. */
function specOf(object: Resource): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = object;
  return rest;
}

/** The client-settable metadata only; the store owns the rest. */
function cleanMetadata(meta: ObjectMeta, def: KindDefinition): ObjectMeta {
  const out: ObjectMeta = { name: meta.name };
  if (def.namespaced) out.namespace = meta.namespace ?? DEFAULT_NAMESPACE;
  if (meta.labels !== undefined && Object.keys(meta.labels).length > 0) out.labels = meta.labels;
  if (meta.annotations !== undefined && Object.keys(meta.annotations).length > 0) out.annotations = meta.annotations;
  if (meta.ownerReferences !== undefined && meta.ownerReferences.length > 0) out.ownerReferences = meta.ownerReferences;
  return out;
}

function withMetadata(resource: Resource, metadata: ObjectMeta): Resource {
  const { apiVersion, kind, metadata: _m, ...rest } = resource;
  return { apiVersion, kind, metadata, ...rest };
}

/** Fills Event times the writer left out, from the store's clock. */
function stampEvent(event: Record<string, unknown>, existing: Resource | undefined, now: string): void {
  event.firstTimestamp ??= existing?.firstTimestamp ?? now;
  event.lastTimestamp ??= now;
  event.count ??= 1;
}

function notFound(def: KindDefinition, name: string, namespace: string): NotFoundError {
  const where = namespace === '' ? '' : ` in namespace "${namespace}"`;
  return new NotFoundError(`Check the name and namespace${where}: ${qualifiedPlural(def)} "${name}" not found`);
}

function conflict(def: KindDefinition, name: string, had: string, now: number): ConflictError {
  return new ConflictError(
    `Read ${def.kind} "${name}" again and retry: it changed since you read it (resourceVersion "${had}", now "${now}")`,
  );
}
