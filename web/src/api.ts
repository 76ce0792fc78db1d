/**
 * The dashboard API's shapes (src/viz's query results, as JSON) and a polling hook.
 * Everything is fetched from the serving origin: the page makes no other requests.
 */
import { useEffect, useState } from 'react';

/** A stat row (src/viz stat-rows.ts). */
export interface StatRow {
  namespace: string;
  name: string;
  meshedPods: number;
  totalPods: number;
  responses: number;
  successRate?: number | null;
  rps: number;
  p50?: number | null;
  p95?: number | null;
  p99?: number | null;
  tcpConnections: number;
  readBytesPerSec: number;
  writeBytesPerSec: number;
}

/** An edge row (src/viz edge-rows.ts). */
export interface EdgeRow {
  srcNamespace: string;
  src: string;
  dstNamespace: string;
  dst: string;
  secured: boolean;
  clientId?: string;
  serverId?: string;
  rps: number;
  successRate?: number | null;
}

/** GET /api/overview. */
export interface Overview {
  nowMs: number;
  intervalMs: number;
  namespaces: string[];
  nodes: StatRow[];
  edges: EdgeRow[];
  proxies: Array<{ pod: string; lastScrapeMs: number | null; error: string | null }>;
}

/** GET /api/workload. */
export interface WorkloadDetail {
  nowMs: number;
  stat: StatRow | null;
  series: { time: number[]; rps: Array<number | null>; successRate: Array<number | null>; p50: Array<number | null>; p95: Array<number | null>; p99: Array<number | null> };
  edges: EdgeRow[];
  pods: Array<{ pod: string; ip: string; identity: string; certNotAfterMs: number | null; lastScrapeMs: number | null; error: string | null }>;
}

/** GET /api/certificates. */
export interface ChainView {
  nowMs: number;
  anchors: Array<{ subject: string; fingerprint: string; notBeforeMs: number; notAfterMs: number }>;
  issuers: Array<{
    namespace: string; name: string; secretName: string; isCA: boolean; ready: boolean;
    notBeforeMs?: number; notAfterMs?: number; renewalTimeMs?: number; revision?: number;
    rotations: Array<{ timeMs: number; reason: string; message: string; type: string }>;
    warnings: string[];
  }>;
  /** notBeforeMs and renewalTimeMs follow from lifetimeMs, the lifetime identity issues (weft-config's issuanceLifetime). */
  workloads: Array<{ pod: string; identity: string; notBeforeMs: number; notAfterMs: number; lifetimeMs: number; renewalTimeMs: number; warnings: string[] }>;
  warnings: string[];
}

/** A tap event (src/viz tap-events.ts). */
export interface TapEvent {
  timeMs: number;
  proxy: string;
  direction: string;
  src: string;
  dst: string;
  authority: string;
  statusCode: string;
  classification: string;
  tls: boolean;
  count: number;
  /** Only on events from a proxy's /tap stream (not on metric batches from older proxies). */
  method?: string;
  path?: string;
  latencyMs?: number;
}

/** Fetches `path` now and every `everyMs`; the latest answer, or the error. */
export function usePoll<T>(path: string, everyMs = 5000): { data: T | undefined; error: string | undefined } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    const load = (): void => {
      // One catch for both failures: no answer, and an answer that is not JSON (a proxy's error page).
      fetch(path).then(async (r) => {
        const body = await r.json() as T & { error?: string };
        if (!live) return;
        if (!r.ok) { setError(body.error ?? `HTTP ${r.status}`); return; }
        setData(body);
        setError(undefined);
      }).catch((e: unknown) => { if (live) setError(String(e)); });
    };
    load();
    const timer = setInterval(load, everyMs);
    return () => { live = false; clearInterval(timer); };
  }, [path, everyMs]);
  return { data, error };
}

/** `92.50%`, or `-`. */
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : `${(v * 100).toFixed(2)}%`;
}

/** `2.0 rps`. */
export function rps(v: number): string {
  return `${v.toFixed(1)} rps`;
}

/** `12 ms`, or `-`. */
export function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : `${Math.round(v)} ms`;
}

/** A short relative time: `in 3h 20m`, `5m ago`. */
export function relative(targetMs: number, nowMs: number): string {
  const d = targetMs - nowMs;
  const a = Math.abs(d);
  const h = Math.floor(a / 3_600_000);
  const m = Math.floor((a % 3_600_000) / 60_000);
  const text = h >= 48 ? `${Math.floor(h / 24)}d` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m` : `${Math.floor(a / 1000)}s`;
  return d >= 0 ? `in ${text}` : `${text} ago`;
}

/** Colour for a success rate: green at 100%, amber above 90%, red below. */
export function healthColour(v: number | null | undefined): string {
  if (v === null || v === undefined) return '#8a94a6';
  return v >= 0.995 ? '#2e9d5b' : v >= 0.9 ? '#d49a1c' : '#d64541';
}
