import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors/index.ts';
import { STATE_DIR_ENV, openStore, resolveStateDir, type SqliteStore } from '../store/index.ts';

/**
 * Adds `--state-dir DIR` to a command. Every command that touches the embedded
 * platform takes it; the resolution (flag, WEFT_STATE_DIR, default) is
 * `resolveStateDir` in the store, one function for all of them.
 */
export function withStateDir(command: Command): Command {
  return command.option(
    '--state-dir <dir>',
    `where the embedded platform keeps its state (default: $${STATE_DIR_ENV}, else /var/lib/weft as root, else $XDG_STATE_HOME/weft or ~/.local/state/weft)`,
  );
}

/**
 * The state directory a command was given (its own option or a parent's). It may
 * not exist yet (commands create it), but when it exists it must be a directory:
 * every command checks that here, once, instead of failing deep inside with ENOTDIR.
 */
export function stateDirOf(command: Command): string {
  const opts = command.optsWithGlobals<{ stateDir?: string }>();
  const dir = resolveStateDir(opts.stateDir);
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isDirectory()) {
    throw new UsageError(`Give --state-dir (or $${STATE_DIR_ENV}) a directory: "${dir}" is not one`);
  }
  return dir;
}

/** Opens the store under the command's state directory; the caller closes it. */
export function openCommandStore(command: Command): SqliteStore {
  return openStore({ stateDir: stateDirOf(command) });
}
