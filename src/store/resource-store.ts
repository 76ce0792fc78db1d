import type { KindMap, Resource, ResourceInput } from '../api/index.ts';
import type { LabelSelector } from './label-selector.ts';

/** The stored type of an input: the kind's interface when weft knows the kind. */
export type Stored<T extends { kind: string }> = T['kind'] extends keyof KindMap ? KindMap[T['kind']] : Resource;

/** The stored type of a kind name. */
export type StoredKind<K extends string> = K extends keyof KindMap ? KindMap[K] : Resource;

/** What `apply` did, in kubectl's words. */
export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

/** Result of {@link ResourceStore.apply}. */
export interface ApplyResult<T> {
  readonly object: T;
  readonly outcome: ApplyOutcome;
}

/** Result of {@link ResourceStore.list}: the items and the store's resourceVersion they were read at. */
export interface ListResult<T> {
  readonly items: T[];
  /** Watch from here to miss nothing that happens after this list. */
  readonly resourceVersion: string;
}

/** Options of {@link ResourceStore.list}. */
export interface ListOptions {
  /** Only this namespace; default: every namespace. */
  readonly namespace?: string;
  /** kubectl `-l` text or a parsed selector; default: every object. */
  readonly labelSelector?: string | LabelSelector;
}

/** A change, as a Kubernetes watch delivers it. DELETED carries the object as it was, at the deletion's resourceVersion. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: Resource;
}

/** Options of {@link ResourceStore.watch}. */
export interface WatchOptions {
  /** Only this kind; default: every kind. */
  readonly kind?: string;
  /** Only this namespace; default: every namespace. */
  readonly namespace?: string;
  /**
   * Deliver every change after this resourceVersion (from a list, or the last event
   * seen before a restart). Default: only changes from now on.
   */
  readonly fromResourceVersion?: string;
  /** Ends the watch (the iterator returns). */
  readonly signal?: AbortSignal;
}

/** A status write: the object's identity (and optionally its resourceVersion as a precondition), and the new status. */
export interface StatusInput {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly resourceVersion?: string };
  readonly status: unknown;
}

/**
 * Where the platform's state lives. Controllers see only this, never the backend
 * (the embedded SQLite file, or later the Kubernetes API server).
 *
 *   apply ──▶ validate ──▶ namespace exists? ──▶ resourceVersion current? ──▶ write + change log
 *                                                                              │
 *   watch ◀──────────────────────── change log (rv > from) ◀─────────────────────┘
 */
export interface ResourceStore {
  /** The object, or undefined. `namespace` is ignored for cluster-scoped kinds and defaults to "default". */
  get<K extends string>(kind: K, name: string, namespace?: string): Promise<StoredKind<K> | undefined>;
  /** Objects of `kind`, sorted by namespace then name. */
  list<K extends string>(kind: K, options?: ListOptions): Promise<ListResult<StoredKind<K>>>;
  /**
   * Creates or updates the object's spec, labels, annotations and owner references
   * (never its status). Validates first (ValidationError listing every problem).
   * A metadata.resourceVersion in `object` is a precondition: stale → ConflictError.
   * A namespaced object needs its Namespace (NotFoundError otherwise).
   */
  apply<T extends ResourceInput>(object: T): Promise<ApplyResult<Stored<T>>>;
  /** Replaces the status only: spec and generation stay. NotFoundError when absent, ConflictError when stale. */
  updateStatus<T extends StatusInput>(object: T): Promise<StoredKind<T['kind']>>;
  /**
   * Deletes the object and, in the same transaction, everything whose
   * ownerReferences name it (and, for a Namespace, everything in it), recursively.
   * Resolves to what was deleted, the object first; empty when it did not exist.
   */
  delete(kind: string, name: string, namespace?: string, options?: { resourceVersion?: string }): Promise<Resource[]>;
  /** Changes after `fromResourceVersion`, in order, for as long as the iterator is read. */
  watch(options?: WatchOptions): AsyncIterable<WatchEvent>;
  /** The store's current resourceVersion. */
  resourceVersion(): Promise<string>;
  /** The store's clock (injected; real time by default). */
  now(): Date;
  /** Releases the backend; open watches end. */
  close(): void;
}
