/**
 * The dashboard's front-end bundle (`web/`, built by vite into `web/dist/`). It is
 * not committed: the dashboard builds it when it is missing or older than its
 * sources, so a fresh clone's `weft viz dashboard` (and `npm start`) just works, and
 * an edited front-end is rebuilt on the next start. Building takes a few seconds.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeftError } from '../errors/index.ts';

/** The front-end's source directory in this checkout. */
export const WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name.startsWith('dist.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Whether `web/dist` is missing or older than any source file. */
export function webBundleStale(root: string = WEB_ROOT): boolean {
  const index = join(root, 'dist', 'index.html');
  return !existsSync(index) || statSync(index).mtimeMs < newestMtime(root);
}

/**
 * Builds `web/dist` when stale and resolves to its path. The build goes to a private
 * directory first and is renamed into place, so two processes starting at once (two
 * test files) never serve a half-written bundle.
 */
export async function ensureWebBundle(options: { root?: string; force?: boolean } = {}): Promise<string> {
  const root = options.root ?? WEB_ROOT;
  const dist = join(root, 'dist');
  if (options.force !== true && !webBundleStale(root)) return dist;
  const tmp = join(root, `dist.${process.pid}.${Date.now()}`);
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch (err) {
    throw new WeftError('WEFT_ERR_VIZ_BUNDLE', 'Install the dashboard\'s build tools with "npm ci": vite is missing', { cause: err });
  }
  try {
    await vite.build({
      root,
      base: './',
      configFile: false,
      logLevel: 'warn',
      build: { outDir: tmp, emptyOutDir: true, chunkSizeWarningLimit: 2048 },
    });
    rmSync(dist, { recursive: true, force: true });
    renameSync(tmp, dist);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process renamed its build into place first: that one is as good.
    if (existsSync(join(dist, 'index.html'))) return dist;
    throw new WeftError('WEFT_ERR_VIZ_BUNDLE', `Cannot build the dashboard in "${root}": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return dist;
}
