import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { STORE_FILE, openStore } from '../../src/store/index.ts';
import { configMap, tempStateDir } from './helpers.ts';

const WRITER = join(import.meta.dirname, 'fixtures', 'writer.ts');

function writer(args: string[]): ChildProcess {
  return spawn(process.execPath, [WRITER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const [code] = await once(child, 'exit') as [number | null];
  return { code, stderr };
}

test('two processes incrementing one object with resourceVersion lose no update, and a third process watches them', async (t) => {
  const dir = tempStateDir(t);
  const store = openStore({ stateDir: dir, pollIntervalMs: 20 });
  t.after(() => store.close());
  const start = (await store.apply(configMap('counter', { n: '0' }))).object;
  const abort = new AbortController();
  const watched = (async () => {
    let last = '0';
    for await (const e of store.watch({ kind: 'ConfigMap', fromResourceVersion: start.metadata.resourceVersion as string, signal: abort.signal })) {
      last = String((e.object.data as { n?: string } | undefined)?.n);
      if (last === '200') abort.abort();
    }
    return last;
  })();
  const children = [writer(['counter', dir, '100']), writer(['counter', dir, '100'])];
  t.after(() => { for (const c of children) c.kill('SIGKILL'); });
  const results = await Promise.all(children.map(exitOf));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.equal((await store.get('ConfigMap', 'counter'))?.data?.n, '200');
  assert.equal(await watched, '200');
});

test('killing a writer with SIGKILL mid-loop leaves a consistent store that accepts writes', async (t) => {
  const dir = tempStateDir(t);
  openStore({ stateDir: dir }).close();
  const child = writer(['loop', dir]);
  t.after(() => child.kill('SIGKILL'));
  let ticks = 0;
  // Bounded wait for real progress: the child prints a line after each committed write.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('writer made no progress in 20 s')), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      ticks += d.toString().split('\n').length - 1;
      if (ticks >= 150) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`writer exited early (${code})`)); });
  });
  child.kill('SIGKILL');
  await once(child, 'exit');

  const db = new DatabaseSync(join(dir, STORE_FILE));
  try {
    assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    const counter = (db.prepare("SELECT value FROM meta WHERE key = 'rv'").get() as { value: number }).value;
    const maxChange = (db.prepare('SELECT max(rv) AS m FROM changes').get() as { m: number }).m;
    assert.equal(maxChange, counter, 'every counter bump has its change-log row');
    // Every object's row matches its latest change: a write is all of it or none of it.
    const orphans = db.prepare(`SELECT o.name FROM objects o LEFT JOIN changes c ON c.rv = o.rv
      WHERE c.rv IS NULL OR c.type = 'DELETED' OR c.body <> o.body`).all();
    assert.deepEqual(orphans, []);
  } finally {
    db.close();
  }
  const store = openStore({ stateDir: dir });
  t.after(() => store.close());
  assert.ok((await store.list('ConfigMap')).items.length > 0);
  assert.equal((await store.apply(configMap('after-crash', {}))).outcome, 'created');
});
