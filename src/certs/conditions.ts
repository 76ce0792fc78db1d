import type { Condition } from '../api/index.ts';

/**
 * Sets `next` in `conditions` (by type) and returns the new list. The transition
 * time moves only when the status changes, as Kubernetes conventions ask, so
 * "Ready since" stays meaningful across reconciles.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const at = list.findIndex((c) => c.type === next.type);
  const previous = at >= 0 ? list[at] : undefined;
  const lastTransitionTime =
    previous !== undefined && previous.status === next.status && previous.lastTransitionTime !== undefined
      ? previous.lastTransitionTime
      : rfc3339(now);
  const condition: Condition = { ...next, lastTransitionTime };
  if (at >= 0) list[at] = condition;
  else list.push(condition);
  return list;
}

/** Removes the condition of `type`. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** RFC 3339 at second precision, as Kubernetes writes times. */
export function rfc3339(at: Date): string {
  return new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
