/**
 * From one resolution to the next: the updates a stream sends. Pure.
 *
 *   (none) ──▶ endpoints      add(all)             first message: the whole set
 *   (none) ──▶ no endpoints   no_endpoints
 *   set A  ──▶ set B          remove(A−B), add(B−A ∪ changed)
 *   set A  ──▶ no endpoints   no_endpoints
 */
import { addressKey } from './address-key.ts';
import type { Resolution } from './resolve.ts';
import type { Endpoint, Update } from './wire.ts';

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.ip === b.ip && a.port === b.port && a.weight === b.weight && a.identity === b.identity
    && a.protocol === b.protocol && a.inboundPort === b.inboundPort
    && JSON.stringify(Object.entries(a.labels).sort()) === JSON.stringify(Object.entries(b.labels).sort());
}

/** The updates that take a client holding `prev` (undefined: nothing sent yet) to `next`. */
export function diffResolutions(prev: Resolution | undefined, next: Resolution): Update[] {
  if (next.kind === 'no_endpoints') {
    if (prev?.kind === 'no_endpoints' && prev.exists === next.exists) return [];
    return [{ kind: 'no_endpoints', exists: next.exists }];
  }
  if (prev === undefined || prev.kind === 'no_endpoints') return [{ kind: 'add', endpoints: next.endpoints }];
  const before = new Map(prev.endpoints.map((e) => [addressKey(e), e]));
  const after = new Set(next.endpoints.map((e) => addressKey(e)));
  const removed = prev.endpoints.filter((e) => !after.has(addressKey(e))).map((e) => ({ ip: e.ip, port: e.port }));
  const added = next.endpoints.filter((e) => {
    const old = before.get(addressKey(e));
    return old === undefined || !sameEndpoint(old, e);
  });
  const updates: Update[] = [];
  // Remove first: a client never holds more endpoints than either set had.
  if (removed.length > 0) updates.push({ kind: 'remove', addresses: removed });
  if (added.length > 0) updates.push({ kind: 'add', endpoints: added });
  return updates;
}

/** The set a client holds after applying `update` to `current` (the client's side of {@link diffResolutions}). */
export function applyUpdate(current: Resolution | undefined, update: Update): Resolution {
  if (update.kind === 'no_endpoints') return { kind: 'no_endpoints', exists: update.exists };
  const held = new Map(current?.kind === 'endpoints' ? current.endpoints.map((e) => [addressKey(e), e]) : []);
  if (update.kind === 'add') {
    for (const e of update.endpoints) held.set(addressKey(e), e);
  } else {
    for (const a of update.addresses) held.delete(addressKey(a));
  }
  if (held.size === 0) {
    // Everything removed: the service is still there, just empty.
    return { kind: 'no_endpoints', exists: true };
  }
  return { kind: 'endpoints', endpoints: [...held.values()].sort((a, b) => (addressKey(a) < addressKey(b) ? -1 : 1)) };
}
