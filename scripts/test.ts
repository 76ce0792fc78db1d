/**
 * `npm test`: typecheck, lint, then every test with node's test runner. The runner's
 * summary (tests / pass / fail counts) is the last thing printed, so CI can read it.
 *
 * Unit tests sit beside their source (`src/** /*.test.ts`); integration and
 * end-to-end tests live under `test/`. Tests that need root, namespaces or a tool
 * fail when it is missing: CI (.ci/run) provides them all.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

function run(label: string, cmd: string, args: string[]): void {
  process.stdout.write(`\n== ${label}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`\n${label} failed (exit ${r.status ?? r.signal}); fix it first.\n`);
    process.exit(r.status ?? 1);
  }
}

const only = process.argv.slice(2);
if (only.length === 0) {
  run('typecheck', 'tsc', ['--noEmit', '-p', '.']);
  run('lint', 'eslint', ['--max-warnings=0', '.']);
}

const files = only.length > 0
  ? only
  : [...globSync('src/**/*.test.ts'), ...globSync('test/**/*.test.ts')].sort();
process.stdout.write(`\n== tests (${files.length} files)\n`);
// Two cores: two test files at a time keeps namespaces and servers from starving.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
