#!/usr/bin/env node
// Runs a script on the project's Node.js 24, installing it first when needed.
//
// `npm start` and `npm test` must work on a fresh clone, where `npm` itself may run
// on an older system Node (the machines ship Node 20) and node_modules does not exist
// yet. This file is plain JavaScript that any Node can run: it does `npm ci` once,
// then re-executes the given script with node_modules/.bin/node (Node 24, from the
// `node` devDependency).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node24 = join(root, 'node_modules', '.bin', 'node');

if (!existsSync(node24)) {
  process.stderr.write('weft: first run, installing dependencies (npm ci)…\n');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (npm.status !== 0) {
    process.stderr.write('weft: npm ci failed; fix the error above and run again.\n');
    process.exit(npm.status ?? 1);
  }
}

const [script, ...args] = process.argv.slice(2);
if (script === undefined) {
  process.stderr.write('usage: node scripts/node24.mjs SCRIPT [ARGS…]\n');
  process.exit(2);
}
const run = spawnSync(node24, [join(root, script), ...args], { stdio: 'inherit' });
process.exit(run.status ?? (run.signal ? 128 : 1));
