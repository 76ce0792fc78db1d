import { execFile } from 'node:child_process';
import { WeftError } from '../../errors/index.ts';

/** Exit code and output of a command. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// ip and iptables live in sbin, which a non-login root shell may lack.
const SBIN = '/usr/local/sbin:/usr/sbin:/sbin';

/** The PATH weft's own commands run with: the caller's, plus sbin. */
export function commandPath(): string {
  return [process.env['PATH'] ?? '', SBIN].filter((p) => p !== '').join(':');
}

/** Runs `argv`, never throwing for a failing exit (the caller decides); 127 when it could not start. */
export function runCommand(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new TypeError('runCommand() needs a command');
  return new Promise((resolve) => {
    const child = execFile(cmd, args, {
      timeout: options.timeoutMs ?? 30_000,
      env: { ...process.env, PATH: commandPath(), LC_ALL: 'C' },
      encoding: 'utf8',
    }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      resolve({ code: typeof err.code === 'number' ? err.code : 127, stdout, stderr: stderr || err.message });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs `argv` and throws a PlatformError naming the command when it fails. */
export async function mustRun(argv: readonly string[], options: { input?: string } = {}): Promise<string> {
  const r = await runCommand(argv, options);
  if (r.code !== 0) {
    throw new WeftError('WEFT_ERR_PLATFORM_COMMAND', `Cannot run "${argv.join(' ')}": ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
  return r.stdout;
}
