#!/usr/bin/env node
// Runs a script on the project's Node.js 24, installing it first when needed.
//
// `npm start` and `npm test` must work on a fresh clone, where `npm` itself may run
// on an older system Node (the machines ship Node 20) and node_modules does not exist
// yet. This file is plain JavaScript that any Node can run: it does `npm ci` once,
// then runs the given script with node_modules/.bin/node (Node 24, from the `node`
// devDependency) and exits with its code.
import { spawn, spawnSync } from 'node:child_process';
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
const child = spawn(node24, [join(root, script), ...args], { stdio: 'inherit' });
// Ctrl-C reaches the child from the terminal (same process group); a signal sent to
// this launcher alone is passed on. Either way we wait for the child to finish its
// clean-up (`weft up` removes namespaces and rules) instead of dying first.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));
