/**
 * The `vote-bot`: calls `web` at a steady rate, open loop (a slow `web` does not
 * slow the bot down, up to `maxInFlight` calls), so the mesh always has traffic.
 * It loads the list once (`/api/list`), then each tick votes (`/api/vote`), for
 * :doughnut: 15% of the time. Every `reportEveryMs` it logs one line of counts:
 *
 *   vote-bot: 20 votes in the last 10s: 200=17 500=3 (3 for :doughnut:); since start 120: 200=102 500=18
 *
 * Outcomes are the HTTP status, `error` (no answer: refused, reset, timed out) or
 * `skipped` (a tick found `maxInFlight` calls still waiting).
 */
import { Agent, request } from 'node:http';
import { chooseVote, DEFAULT_DOUGHNUT_SHARE } from './choose-vote.ts';
import { DOUGHNUT } from './emoji-catalog.ts';

/** Options of {@link startVoteBot}; defaults in brackets. */
export type VoteBotOptions = {
  /** `host:port` of web, e.g. `web-svc.emojivoto:80`. */
  webTarget: string;
  /** Votes per second [1]. At most 1000: the tick is a millisecond timer. */
  ratePerSecond?: number;
  /** Share of votes for :doughnut: [0.15]. */
  doughnutShare?: number;
  /** Numbers in [0, 1) [Math.random]; seed it (`seededRandom`) to repeat a run. */
  random?: () => number;
  /** How often a line of counts is logged [10 000 ms]. */
  reportEveryMs?: number;
  /** Calls that may wait at once before ticks are skipped [16]. */
  maxInFlight?: number;
  /** How long one call may take before it counts as `error` [5 000 ms]. */
  requestTimeoutMs?: number;
  /** Receives the report lines and start/stop. Default: discard. */
  log?: (line: string) => void;
};

/** Counts since start. */
export type VoteBotStats = {
  /** Ticks after the list loaded: answered votes, plus `skipped` ticks that voted for nothing. */
  votes: number;
  /** Votes sent for :doughnut:. */
  doughnut: number;
  /** Vote outcomes: `"200"`, `"500"`, …, `"error"`, `"skipped"`. */
  outcomes: Record<string, number>;
  /** Calls to `/api/list` (more than one when web was not reachable at first). */
  listCalls: number;
  /** Calls still waiting for an answer. */
  inFlight: number;
};

/** A running bot. */
export type VoteBot = {
  /** A copy of the counts so far. */
  stats(): VoteBotStats;
  /** Stops ticking, waits for calls in flight, logs the totals. */
  close(): Promise<void>;
};

/** Splits `host:port` (or `[v6]:port`; port 80 when absent) for node:http. */
export function parseTarget(target: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(target.trim());
  const host = m?.[1] ?? m?.[2];
  const port = m?.[3] === undefined ? 80 : Number(m[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`Write the web address as HOST:PORT, e.g. "web-svc.emojivoto:80": got "${target}"`);
  }
  return { host, port };
}

/** Starts the bot; it ticks right away and runs until `close()`. */
export function startVoteBot(opts: VoteBotOptions): VoteBot {
  const log = opts.log ?? (() => {});
  const rate = opts.ratePerSecond ?? 1;
  if (!(rate > 0 && rate <= 1000)) throw new Error(`Set the vote rate between 0 and 1000 per second: got "${rate}"`);
  const share = opts.doughnutShare ?? DEFAULT_DOUGHNUT_SHARE;
  const random = opts.random ?? Math.random;
  const reportEveryMs = opts.reportEveryMs ?? 10_000;
  const maxInFlight = opts.maxInFlight ?? 16;
  const timeoutMs = opts.requestTimeoutMs ?? 5_000;
  const web = parseTarget(opts.webTarget);
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });

  const total = { votes: 0, doughnut: 0, outcomes: {} as Record<string, number>, listCalls: 0 };
  let window = { votes: 0, doughnut: 0, outcomes: {} as Record<string, number> };
  let shortcodes: string[] | undefined;
  let inFlight = 0;
  let listing = false;
  const idleWaiters: Array<() => void> = [];

  function count(outcome: string, doughnut: boolean): void {
    for (const c of [total, window]) {
      c.votes++;
      if (doughnut) c.doughnut++;
      c.outcomes[outcome] = (c.outcomes[outcome] ?? 0) + 1;
    }
  }

  type Answer = { status: number; body: string } | { status: 'error' };

  /** One call; `done` runs before the call stops counting as in flight, so `close()` sees every count. */
  function get(path: string, done: (answer: Answer) => void): void {
    inFlight++;
    let finished = false;
    const finish = (answer: Answer): void => {
      if (finished) return;
      finished = true;
      done(answer);
      inFlight--;
      if (inFlight === 0) for (const w of idleWaiters.splice(0)) w();
    };
    const req = request({ host: web.host, port: web.port, path, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => finish({ status: 'error' }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => finish({ status: 'error' }));
    req.end();
  }

  function loadList(): void {
    listing = true;
    total.listCalls++;
    get('/api/list', (res) => {
      listing = false;
      if (res.status !== 200) return;
      try {
        const list = JSON.parse(res.body) as Array<{ shortcode?: unknown }>;
        const codes = list.map((e) => e.shortcode).filter((s): s is string => typeof s === 'string');
        if (codes.length > 0) shortcodes = codes;
      } catch {
        // A garbled list is retried on the next tick, like an unreachable web.
      }
    });
  }

  function tick(): void {
    if (shortcodes === undefined) {
      if (!listing) loadList();
      return;
    }
    if (inFlight >= maxInFlight) {
      count('skipped', false);
      return;
    }
    const choice = chooseVote(shortcodes, random, share);
    const doughnut = choice === DOUGHNUT;
    get(`/api/vote?choice=${encodeURIComponent(choice)}`, (res) => count(String(res.status), doughnut));
  }

  function report(): void {
    const w = window;
    window = { votes: 0, doughnut: 0, outcomes: {} };
    log(`vote-bot: ${w.votes} votes in the last ${formatSeconds(reportEveryMs)}: ${formatOutcomes(w.outcomes)} (${w.doughnut} for ${DOUGHNUT}); since start ${total.votes}: ${formatOutcomes(total.outcomes)}`);
  }

  // One tick every 1/rate seconds: a steady rate, not bursts.
  const ticker = setInterval(tick, 1000 / rate);
  const reporter = setInterval(report, reportEveryMs);
  log(`vote-bot: voting at ${rate}/s on ${web.host}:${web.port}, ${Math.round(share * 100)}% for ${DOUGHNUT}`);
  tick();

  let closing: Promise<void> | undefined;
  return {
    stats: () => ({ ...total, outcomes: { ...total.outcomes }, inFlight }),
    close() {
      closing ??= (async () => {
        clearInterval(ticker);
        clearInterval(reporter);
        if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
        agent.destroy();
        log(`vote-bot: stopped after ${total.votes} votes: ${formatOutcomes(total.outcomes)} (${total.doughnut} for ${DOUGHNUT})`);
      })();
      return closing;
    },
  };
}

function formatOutcomes(outcomes: Record<string, number>): string {
  const parts = Object.entries(outcomes).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? 'none' : parts.join(' ');
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
