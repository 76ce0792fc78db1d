/**
 * The front-end (web/, TSX) is outside the root tsconfig: typecheck it here, so
 * `npm test` catches a type error in the dashboard as it does in the rest.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers.ts';

test('the dashboard front-end typechecks (tsc -p web)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'web')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
