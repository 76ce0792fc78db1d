/**
 * Entry point of the `weft` command. Each subcommand lives in its own file and
 * registers itself on the program; this file only wires them and turns errors into
 * exit codes: 2 for a user's mistake (one line, no stack), 1 for a failed check.
 */
import { Command, CommanderError } from 'commander';
import { ERR_CHECK_FAILED, WeftError } from '../errors/index.ts';
import { COMMANDS } from './commands.ts';

/** Exit code for bad input: the user has to change something and run again. */
export const EXIT_USAGE = 2;

/**
 * Builds the command tree: only `only`'s command when it names one, else every
 * command (for help and for "unknown command" errors).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('weft')
    .description('weft: a service mesh with mutual TLS and certificates that rotate on their own')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
    });
  const entry = COMMANDS.find((c) => c.name === only);
  for (const c of entry === undefined ? COMMANDS : [entry]) (await c.load())(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv.find((a) => !a.startsWith('-')));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    return err.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (err instanceof WeftError) {
    process.stderr.write(`error: ${err.message}\n`);
    return err.code === ERR_CHECK_FAILED ? 1 : EXIT_USAGE;
  }
  process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}
