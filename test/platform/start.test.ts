import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meshNames, readMeshRecord } from '../../src/platform/index.ts';

const ROOT = join(import.meta.dirname, '../..');

test('npm start\'s script runs the demo mesh in the foreground, says where to look, and Ctrl-C removes everything', { timeout: 120_000 }, async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'weft-start-test-'));
  t.after(async () => {
    await new Promise((r) => execFile(process.execPath, [join(ROOT, 'bin/weft.js'), 'down', '--state-dir', stateDir], r));
    rmSync(stateDir, { recursive: true, force: true });
  });
  const child = spawn(process.execPath, [join(ROOT, 'scripts/start.ts'), '--state-dir', stateDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', () => {});
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const deadline = Date.now() + 60_000;
  while (!out.includes('Every pod is ready.') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
  assert.match(out, /Every pod is ready\./, out);
  assert.match(out, /Issuer Certificate 1h with renewBefore 55m: a new issuer every 5 minutes/);
  assert.match(out, /Created Certificate "weft\/weft-identity-issuer" \(1h, renewBefore 55m\)/);
  assert.match(out, /rotation {2}issuer Certificate "weft\/weft-identity-issuer" lives 1h, renewed 55m before expiry; workload certificates live 2m0s/);
  assert.match(out, /npx weft exec --state-dir \S+ deploy\/vote-bot -n emojivoto -- curl -s http:\/\/web-svc\/api\/leaderboard/);
  assert.equal(readMeshRecord(stateDir)?.netns.length, 4);

  // Ctrl-C reaches the whole foreground process group: the script and weft up.
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.match(out, /Stopped; nothing is left behind\./);
  const names = meshNames(stateDir);
  assert.deepEqual(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(names.netnsPrefix)), []);
  assert.deepEqual(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(names.id)), []);
  assert.equal(readMeshRecord(stateDir), undefined);
});
