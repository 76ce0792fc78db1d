/**
 * Starts one demo app from its configuration, behind one shape for all four so a
 * caller (the CLI, a test) handles start and stop the same way.
 */
import { seededRandom } from './choose-vote.ts';
import type { DemoConfig } from './demo-config.ts';
import { startEmojiServer } from './emoji-server.ts';
import { startVoteBot } from './vote-bot.ts';
import { startVotingServer } from './voting-server.ts';
import { startWebServer } from './web-server.ts';

/** A started demo app. */
export type RunningDemoApp = {
  /** Where it listens; `undefined` for vote-bot, which only calls out. */
  readonly address: { host: string; port: number } | undefined;
  /** Graceful stop: no new work, work in flight finishes (bounded), then resolves. */
  close(): Promise<void>;
};

/** Starts the app `config` describes; `log` receives its lines (start, reports, stop). */
export async function runDemoApp(config: DemoConfig, log: (line: string) => void): Promise<RunningDemoApp> {
  switch (config.app) {
    case 'emoji':
    case 'voting': {
      const start = config.app === 'emoji' ? startEmojiServer : startVotingServer;
      const server = await start({ host: config.host, port: config.port, log });
      return { address: { host: server.host, port: server.port }, close: () => stopped(config.app, server.close(), log) };
    }
    case 'web': {
      const server = await startWebServer({ ...config, log });
      return { address: { host: server.host, port: server.port }, close: () => stopped('web', server.close(), log) };
    }
    case 'vote-bot': {
      const bot = startVoteBot({
        webTarget: config.webTarget,
        ratePerSecond: config.ratePerSecond,
        doughnutShare: config.doughnutShare,
        reportEveryMs: config.reportEveryMs,
        ...(config.seed === undefined ? {} : { random: seededRandom(config.seed) }),
        log,
      });
      return { address: undefined, close: () => bot.close() };
    }
  }
}

async function stopped(app: string, closing: Promise<void>, log: (line: string) => void): Promise<void> {
  await closing;
  log(`${app}: stopped`);
}
