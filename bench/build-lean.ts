/**
 * Writes plain-JavaScript copies of a TypeScript entry point and its relative
 * imports (types stripped with node:module, `.ts` specifiers rewritten to `.js`),
 * as the platform does for its sidecars (src/platform/local/proxy-build.ts holds
 * the one implementation; this keeps the benchmark's command and signature).
 *
 * Why: running `.ts` makes Node load its WebAssembly type stripper, which stays
 * resident for the life of the process (~35 MB per sidecar; docs/embedded-platform.md).
 *
 *   node bench/build-lean.ts src/cli/proxy.ts bench/results/lean  → bench/results/lean/src/cli/proxy.js
 */
import { PROXY_BUILD_LINKS, writeStripped } from '../src/platform/index.ts';

/** Strips `entry` and everything it imports relatively into `outDir`; returns the entry's output path. */
export function buildLean(entry: string, outDir: string, root = process.cwd()): string {
  return writeStripped(entry, outDir, root, { links: PROXY_BUILD_LINKS });
}

if (import.meta.main) {
  const [entry, out] = process.argv.slice(2);
  process.stdout.write(`${buildLean(entry ?? 'src/cli/proxy.ts', out ?? 'bench/results/lean')}\n`);
}
