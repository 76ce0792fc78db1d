/**
 * Each demo process reads its port and peers from the environment, as the
 * manifests set them. Parsing is pure and reports a problem instead of throwing,
 * so the CLI decides how a bad value reaches the user.
 */

/** The four programs of the demo. */
export const DEMO_APPS = ['emoji', 'voting', 'web', 'vote-bot'] as const;
/** One of {@link DEMO_APPS}. */
export type DemoApp = (typeof DEMO_APPS)[number];

/** What one demo process needs, by app. */
export type DemoConfig =
  | { app: 'emoji' | 'voting'; host: string; port: number }
  | { app: 'web'; host: string; port: number; emojiTarget: string; votingTarget: string }
  | { app: 'vote-bot'; webTarget: string; ratePerSecond: number; doughnutShare: number; reportEveryMs: number; seed?: number };

/** Parsed config, or a one-line problem that says what to set. */
export type DemoConfigResult = { ok: true; config: DemoConfig } | { ok: false; problem: string };

/** The defaults, as the manifests use them. */
export const DEMO_DEFAULTS = {
  /** Listen on every address of the pod: the Service and the sidecar reach the app there. */
  bindHost: '0.0.0.0',
  grpcPort: 8080,
  webPort: 8080,
  voteRatePerSecond: 2,
  doughnutShare: 0.15,
  reportSeconds: 10,
} as const;

type Env = Readonly<Record<string, string | undefined>>;

class Problem extends Error {}

/**
 * Reads the configuration of `app` from `env`:
 *
 * | app | variables (default) |
 * |---|---|
 * | emoji, voting | `GRPC_PORT` (8080), `BIND_HOST` (0.0.0.0) |
 * | web | `WEB_PORT` (8080), `BIND_HOST`, `EMOJISVC_HOST`, `VOTINGSVC_HOST` (both required, HOST:PORT) |
 * | vote-bot | `WEB_HOST` (required, HOST:PORT), `VOTE_BOT_RATE` (2 per second), `VOTE_BOT_DOUGHNUT_SHARE` (0.15), `VOTE_BOT_REPORT_SECONDS` (10), `VOTE_BOT_SEED` (random) |
 */
export function demoConfigFromEnv(app: string, env: Env): DemoConfigResult {
  try {
    return { ok: true, config: parse(app, env) };
  } catch (err) {
    if (err instanceof Problem) return { ok: false, problem: err.message };
    throw err;
  }
}

function parse(app: string, env: Env): DemoConfig {
  const host = text(env, 'BIND_HOST') ?? DEMO_DEFAULTS.bindHost;
  switch (app) {
    case 'emoji':
    case 'voting':
      return { app, host, port: port(env, 'GRPC_PORT', DEMO_DEFAULTS.grpcPort) };
    case 'web':
      return {
        app, host,
        port: port(env, 'WEB_PORT', DEMO_DEFAULTS.webPort),
        emojiTarget: target(env, 'EMOJISVC_HOST', 'emoji-svc.emojivoto:8080'),
        votingTarget: target(env, 'VOTINGSVC_HOST', 'voting-svc.emojivoto:8080'),
      };
    case 'vote-bot': {
      const rate = number(env, 'VOTE_BOT_RATE', DEMO_DEFAULTS.voteRatePerSecond);
      if (!(rate > 0 && rate <= 1000)) throw new Problem(`Set VOTE_BOT_RATE to votes per second between 0 and 1000, e.g. "2": got "${env['VOTE_BOT_RATE'] ?? ''}"`);
      const share = number(env, 'VOTE_BOT_DOUGHNUT_SHARE', DEMO_DEFAULTS.doughnutShare);
      if (!(share >= 0 && share <= 1)) throw new Problem(`Set VOTE_BOT_DOUGHNUT_SHARE to a fraction between 0 and 1, e.g. "0.15": got "${env['VOTE_BOT_DOUGHNUT_SHARE'] ?? ''}"`);
      const seconds = number(env, 'VOTE_BOT_REPORT_SECONDS', DEMO_DEFAULTS.reportSeconds);
      if (!(seconds > 0)) throw new Problem(`Set VOTE_BOT_REPORT_SECONDS to a positive number of seconds, e.g. "10": got "${env['VOTE_BOT_REPORT_SECONDS'] ?? ''}"`);
      const seedText = text(env, 'VOTE_BOT_SEED');
      const seed = seedText === undefined ? undefined : Number(seedText);
      if (seed !== undefined && !Number.isSafeInteger(seed)) throw new Problem(`Set VOTE_BOT_SEED to an integer, or leave it unset for a random run: got "${seedText ?? ''}"`);
      return {
        app, webTarget: target(env, 'WEB_HOST', 'web-svc.emojivoto:80'),
        ratePerSecond: rate, doughnutShare: share, reportEveryMs: Math.round(seconds * 1000),
        ...(seed === undefined ? {} : { seed }),
      };
    }
    default:
      throw new Problem(`Name a demo app: one of ${DEMO_APPS.join(', ')}; got "${app}"`);
  }
}

function text(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function number(env: Env, name: string, fallback: number): number {
  const v = text(env, name);
  return v === undefined ? fallback : Number(v);
}

function port(env: Env, name: string, fallback: number): number {
  const v = text(env, name);
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Problem(`Set ${name} to a port (0-65535; 0 picks a free one): got "${v ?? ''}"`);
  return n;
}

function target(env: Env, name: string, example: string): string {
  const v = text(env, name);
  if (v === undefined) throw new Problem(`Set ${name} to HOST:PORT, e.g. "${example}"`);
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(v)) throw new Problem(`Set ${name} to HOST:PORT, e.g. "${example}": got "${v}"`);
  return v;
}
