/**
 * `weft demo-app emoji|voting|web|vote-bot`: runs one program of the demo
 * application (docs/demo.md) until SIGTERM or SIGINT, then stops gracefully and
 * exits 0. Configuration comes from the environment, as the containers of
 * examples/emojivoto.yaml set it; each log line goes to stdout with a timestamp.
 */
import { Argument, type Command } from 'commander';
import { UsageError } from '../errors/index.ts';
import { DEMO_APPS, demoConfigFromEnv, runDemoApp } from '../demo/index.ts';

/** `weft demo-app`. */
export function registerDemoApp(program: Command): void {
  program
    .command('demo-app')
    .description('run one program of the emojivoto-like demo (configured by environment variables; see docs/demo.md)')
    .addArgument(new Argument('<name>', 'which program').choices(DEMO_APPS))
    .action(async (name: string) => {
      const parsed = demoConfigFromEnv(name, process.env);
      if (!parsed.ok) throw new UsageError(parsed.problem);
      const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
      const app = await runDemoApp(parsed.config, log);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.removeListener('SIGTERM', stop);
          process.removeListener('SIGINT', stop);
          log(`${name}: ${signal} received, stopping`);
          void app.close().then(resolve);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
