import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { buildStrippedEntry, PACKAGE_ROOT, PROXY_BUILD_CACHE, PROXY_SOURCE_ENTRY, proxyEntry } from './proxy-build.ts';

const run = promisify(execFile);

/**
 * A package like weft's: a TypeScript entry with a relative import, a bare import of a
 * package in node_modules, and a native-like file reached by relative path at run time.
 */
function tree(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'weft-proxy-build-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'package.json': '{"type":"module"}\n',
    'node_modules/dep/package.json': '{"name":"dep","type":"module","exports":"./index.js"}\n',
    'node_modules/dep/index.js': 'export const dep = "dep";\n',
    'native/addon.cjs': 'module.exports = { native: "native" };\n',
    'src/cli/main.ts': [
      "import { createRequire } from 'node:module';",
      "import { dep } from 'dep';",
      "import { greet, type Greeting } from '../lib/greet.ts';",
      "const addon = createRequire(import.meta.url)('../../native/addon.cjs') as { native: string };",
      "const g: Greeting = greet('proxy');",
      'process.stdout.write(`${g} ${dep} ${addon.native}`);',
      '',
    ].join('\n'),
    'src/lib/greet.ts': "export type Greeting = string;\nexport function greet(name: string): Greeting { return `hello ${name}`; }\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const options = (root: string) => ({ root, cacheDir: join(root, 'node_modules/.cache/weft'), links: ['native'] });

test('the stripped copy runs as JavaScript, resolving bare imports from the package node_modules and linked run-time files', (t) => {
  const root = tree(t);
  const built = buildStrippedEntry('src/cli/main.ts', options(root));
  assert.equal(built.built, true);
  assert.match(built.entry, /node_modules\/\.cache\/weft\/proxy-[0-9a-f]{16}\/src\/cli\/main\.js$/);
  assert.doesNotMatch(readFileSync(built.entry, 'utf8'), /\.ts'|type Greeting =|as \{/);
  assert.equal(statSync(built.dir).mode & 0o777, 0o755, 'readable by the proxy uid');
  assert.equal(execFileSync(process.execPath, [built.entry], { encoding: 'utf8' }), 'hello proxy dep native');
});

test('an unchanged source reuses the copy, and a changed source gets a new one', (t) => {
  const root = tree(t);
  const first = buildStrippedEntry('src/cli/main.ts', options(root));
  const again = buildStrippedEntry('src/cli/main.ts', options(root));
  assert.deepEqual(again, { ...first, built: false });

  writeFileSync(join(root, 'src/lib/greet.ts'), "export type Greeting = string;\nexport function greet(name: string): Greeting { return `bye ${name}`; }\n");
  const changed = buildStrippedEntry('src/cli/main.ts', options(root));
  assert.equal(changed.built, true);
  assert.notEqual(changed.dir, first.dir);
  assert.equal(execFileSync(process.execPath, [changed.entry], { encoding: 'utf8' }), 'bye proxy dep native');

  // A change to types alone strips to the same JavaScript: the copy is still valid.
  writeFileSync(join(root, 'src/lib/greet.ts'), "export type Greeting = String;\nexport function greet(name: string): Greeting { return `bye ${name}`; }\n");
  assert.equal(buildStrippedEntry('src/cli/main.ts', options(root)).dir, changed.dir);
});

test('processes building the same copy at once all get it, leaving no temporary directories', async (t) => {
  const root = tree(t);
  const script = `import { buildStrippedEntry } from ${JSON.stringify(join(import.meta.dirname, 'proxy-build.ts'))};
process.stdout.write(buildStrippedEntry('src/cli/main.ts', ${JSON.stringify(options(root))}).entry);`;
  const outs = await Promise.all([1, 2, 3, 4].map(() => run(process.execPath, ['--input-type=module', '-e', script])));
  const entries = new Set(outs.map((o) => o.stdout));
  assert.equal(entries.size, 1);
  assert.deepEqual(readdirSync(options(root).cacheDir).filter((n) => n.startsWith('.tmp')), []);
  assert.equal(execFileSync(process.execPath, [[...entries][0]!], { encoding: 'utf8' }), 'hello proxy dep native');
});

test('a copy that cannot be written falls back to the TypeScript entry with one log line saying why', (t) => {
  const root = tree(t);
  // A file where the cache directory should be: mkdir fails with ENOTDIR even as root.
  writeFileSync(join(root, 'blocked'), '');
  const lines: string[] = [];
  const entry = proxyEntry({ source: join(root, 'src/cli/main.ts'), root, cacheDir: join(root, 'blocked/weft'), log: (l) => lines.push(l) });
  assert.equal(entry, join(root, 'src/cli/main.ts'));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /cannot write the stripped copy under ".*blocked\/weft": .*ENOTDIR/);
});

test('the platform builds the proxy inside this package, under node_modules, from src/cli/proxy.ts', () => {
  assert.ok(existsSync(join(PACKAGE_ROOT, 'package.json')));
  assert.equal(PROXY_SOURCE_ENTRY, join(PACKAGE_ROOT, 'src/cli/proxy.ts'));
  assert.ok(PROXY_BUILD_CACHE.startsWith(join(PACKAGE_ROOT, 'node_modules') + '/'));
});
