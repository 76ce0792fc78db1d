/**
 * Writes plain-JavaScript copies of a TypeScript entry point and its relative
 * imports (types stripped with node:module, `.ts` specifiers rewritten to `.js`).
 *
 * Why: running `.ts` makes Node load its WebAssembly type stripper, which keeps
 * about 50 MB resident for the life of the process (measured: 45 MB bare node,
 * 96 MB after importing src/proxy/index.ts). A sidecar proxy runs beside every
 * workload, so the benchmark (and a sidecar image) runs the stripped copy.
 *
 *   node bench/build-lean.ts src/cli/proxy.ts bench/results/lean  → bench/results/lean/src/cli/proxy.js
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const IMPORT = /(from\s+|import\s*\(\s*|import\s+)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g;

/** Strips `entry` and everything it imports relatively into `outDir`; returns the entry's output path. */
export function buildLean(entry: string, outDir: string, root = process.cwd()): string {
  const seen = new Set<string>();
  const queue = [resolve(root, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(IMPORT)) queue.push(resolve(dirname(file), `${m[3]}.ts`));
    const js = stripTypeScriptTypes(source, { mode: 'strip' }).replace(IMPORT, (_all, kw: string, q: string, path: string) => `${kw}${q}${path}.js${q}`);
    const out = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, js);
  }
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return join(outDir, relative(root, resolve(root, entry))).replace(/\.ts$/, '.js');
}

if (import.meta.main) {
  const [entry, out] = process.argv.slice(2);
  process.stdout.write(`${buildLean(entry ?? 'src/cli/proxy.ts', out ?? 'bench/results/lean')}\n`);
}
