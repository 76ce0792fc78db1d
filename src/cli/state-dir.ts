import type { Command } from 'commander';
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

/** The state directory a command was given (its own option or a parent's). */
export function stateDirOf(command: Command): string {
  const opts = command.optsWithGlobals<{ stateDir?: string }>();
  return resolveStateDir(opts.stateDir);
}

/** Opens the store under the command's state directory; the caller closes it. */
export function openCommandStore(command: Command): SqliteStore {
  return openStore({ stateDir: stateDirOf(command) });
}
