/**
 * Plain-JavaScript copies of a TypeScript entry point and its relative imports, so a
 * sidecar runs without Node's TypeScript support.
 *
 * Why: running a `.ts` file makes Node load its WebAssembly type stripper, which stays
 * resident for the life of the process (~35 MB per sidecar; docs/embedded-platform.md).
 * Types are stripped with node:module's `stripTypeScriptTypes` and relative `.ts`
 * specifiers rewritten to `.js`; bare specifiers (npm packages) are left alone, so the
 * copy must live inside the package tree for Node's resolution to walk up to the
 * package's node_modules.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const IMPORT = /(from\s+|import\s*\(\s*|import\s+)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g;
/** Bumped when the output's layout changes, so an old copy is never reused. */
const LAYOUT = 'weft-stripped-1';

/** The package this file belongs to: the nearest directory above it with a package.json. */
export const PACKAGE_ROOT = findPackageRoot(dirname(new URL(import.meta.url).pathname));
/** The proxy's TypeScript entry point (src/cli/proxy.ts runs itself when it is the main module). */
export const PROXY_SOURCE_ENTRY = join(PACKAGE_ROOT, 'src/cli/proxy.ts');
/** Where the platform keeps stripped copies: inside the package tree, so bare imports resolve. */
export const PROXY_BUILD_CACHE = join(PACKAGE_ROOT, 'node_modules/.cache/weft');
/**
 * Top-level directories the proxy reaches by relative path at run time rather than by
 * import (src/native loads `../../native/build/Release/weft_native.node`); each copy
 * links them to the package's own.
 */
export const PROXY_BUILD_LINKS: readonly string[] = ['native'];

function findPackageRoot(from: string): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (d === dirname(d)) return from;
  }
}

/**
 * node:module's stripper, without its one-time ExperimentalWarning: `weft up` would
 * print it to every user, and the output is only ever the sources minus their types
 * (what Node runs for `.ts` anyway).
 */
function strip(source: string): string {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: never[]) => {
    if (!String(warning).includes('stripTypeScriptTypes')) emit.call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emit;
  }
}

/** `entry` and everything it imports relatively, type-stripped: path relative to `root` (`.js`) → JavaScript. */
export function stripSources(entry: string, root: string): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [resolve(root, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(IMPORT)) queue.push(resolve(dirname(file), `${m[3]}.ts`));
    const js = strip(source)
      .replace(IMPORT, (_all, kw: string, q: string, path: string) => `${kw}${q}${path}.js${q}`);
    out.set(relative(root, file).replace(/\.ts$/, '.js'), js);
  }
  return out;
}

/** Options of {@link writeStripped}. */
export interface WriteStrippedOptions {
  /** Top-level directories of `root` to symlink into the copy (see {@link PROXY_BUILD_LINKS}). */
  readonly links?: readonly string[];
}

/**
 * Writes the stripped `entry` and its relative imports into `outDir` (mirroring their
 * paths under `root`, with a `{"type":"module"}` package.json); returns the entry's
 * output path. Overwrites in place: the platform uses {@link buildStrippedEntry}.
 */
export function writeStripped(entry: string, outDir: string, root: string, options: WriteStrippedOptions = {}): string {
  writeFiles(stripSources(entry, root), outDir, root, options.links ?? []);
  return outputPath(entry, outDir, root);
}

function outputPath(entry: string, outDir: string, root: string): string {
  return join(outDir, relative(root, resolve(root, entry)).replace(/\.ts$/, '.js'));
}

function writeFiles(files: ReadonlyMap<string, string>, out_: string, root: string, links: readonly string[]): void {
  const outDir = resolve(out_);
  // Explicit modes, whatever the umask: the proxy runs as another uid and must read them.
  const dirs = new Set<string>();
  for (const [path, js] of files) {
    const out = join(outDir, path);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, js);
    chmodSync(out, 0o644);
    for (let d = dirname(out); d.startsWith(outDir) && !dirs.has(d); d = dirname(d)) dirs.add(d);
  }
  for (const d of dirs) chmodSync(d, 0o755);
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  for (const name of links) {
    const link = join(outDir, name);
    if (existsSync(join(root, name)) && !existsSync(link)) symlinkSync(join(root, name), link);
  }
}

/** Options of {@link buildStrippedEntry}. */
export interface BuildStrippedOptions {
  /** The package root: sources are named relative to it. */
  readonly root: string;
  /** Parent of the `proxy-<hash>` directories; must be inside `root` for bare imports to resolve. */
  readonly cacheDir: string;
  readonly links?: readonly string[];
}

/** A stripped copy in the cache. */
export interface StrippedBuild {
  /** The entry's JavaScript path. */
  readonly entry: string;
  /** The copy's directory (`<cacheDir>/proxy-<hash>`). */
  readonly dir: string;
  /** Whether this call wrote it (false: an identical copy was there already). */
  readonly built: boolean;
}

/**
 * The stripped copy of `entry` in `cacheDir/proxy-<hash>`, the hash taken over the
 * stripped sources, so a changed source means a new directory and a copy is never stale.
 * Written into a temporary directory and renamed into place: of several processes
 * building at once one rename wins and the others use its result.
 */
export function buildStrippedEntry(entry: string, options: BuildStrippedOptions): StrippedBuild {
  const { root, cacheDir } = options;
  const links = options.links ?? [];
  const files = stripSources(entry, root);
  const hash = createHash('sha256').update(`${LAYOUT}\0${links.join(',')}\0`);
  for (const path of [...files.keys()].sort()) hash.update(`${path}\0${files.get(path)!}\0`);
  const dir = join(cacheDir, `proxy-${hash.digest('hex').slice(0, 16)}`);
  const result = (built: boolean): StrippedBuild => ({ entry: outputPath(entry, dir, root), dir, built });
  if (existsSync(join(dir, 'package.json'))) return result(false);
  mkdirSync(cacheDir, { recursive: true });
  // The proxy's uid must traverse (not list) the directories between the package and the copy.
  for (let d = cacheDir; d.startsWith(`${root}/`); d = dirname(d)) {
    const mode = statSync(d).mode & 0o777;
    if ((mode & 0o001) === 0) chmodSync(d, mode | 0o001);
  }
  const tmp = mkdtempSync(join(cacheDir, '.tmp-proxy-'));
  try {
    writeFiles(files, tmp, root, links);
    renameSync(tmp, dir);
    return result(true);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Lost the race to another process: its copy holds the same sources.
    if (existsSync(join(dir, 'package.json'))) return result(false);
    throw err;
  }
}

/** Options of {@link proxyEntry}; the defaults are the package's proxy and cache. */
export interface ProxyEntryOptions {
  readonly source?: string;
  readonly root?: string;
  readonly cacheDir?: string;
  readonly links?: readonly string[];
  readonly log: (line: string) => void;
}

/**
 * The script a sidecar runs: the stripped copy of src/cli/proxy.ts, built (or found)
 * now. If it cannot be written (a read-only package, say), the `.ts` entry, with one
 * log line saying why. The platform calls this once per process, not per pod.
 */
export function proxyEntry(options: ProxyEntryOptions): string {
  const source = options.source ?? PROXY_SOURCE_ENTRY;
  const cacheDir = options.cacheDir ?? PROXY_BUILD_CACHE;
  try {
    return buildStrippedEntry(source, { root: options.root ?? PACKAGE_ROOT, cacheDir, links: options.links ?? PROXY_BUILD_LINKS }).entry;
  } catch (err) {
    options.log(`platform: running proxies from "${source}" (Node's type stripper, ~35 MB more each): cannot write the stripped copy under "${cacheDir}": ${err instanceof Error ? err.message : String(err)}`);
    return source;
  }
}
