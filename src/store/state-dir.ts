import { homedir } from 'node:os';
import { join } from 'node:path';

/** Environment variable naming the state directory. */
export const STATE_DIR_ENV = 'WEFT_STATE_DIR';

/** Where weft keeps its state when neither `--state-dir` nor WEFT_STATE_DIR says. */
export interface StateDirContext {
  /** Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: process.getuid(). */
  readonly uid?: number;
  /** Default: os.homedir(). */
  readonly home?: string;
}

/**
 * The state directory: `flag` (`--state-dir`), else WEFT_STATE_DIR, else
 * `/var/lib/weft` for root (a system service, like a CNI), else
 * `$XDG_STATE_HOME/weft`, else `~/.local/state/weft` (the XDG default).
 */
export function resolveStateDir(flag: string | undefined, context: StateDirContext = {}): string {
  const env = context.env ?? process.env;
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env[STATE_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const uid = context.uid ?? process.getuid?.() ?? -1;
  if (uid === 0) return '/var/lib/weft';
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && xdg.startsWith('/')) return join(xdg, 'weft');
  return join(context.home ?? homedir(), '.local', 'state', 'weft');
}
