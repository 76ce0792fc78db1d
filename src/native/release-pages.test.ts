import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

// Runs in a child process: a fresh node whose start-up pages are all still mapped,
// so what a release gives back is measurable, and the test runner is left alone.
const CHILD = `
import { releaseUnusedPages } from './src/native/index.ts';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import tls from 'node:tls';

const rssFileKb = () => Number(/RssFile:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
/** Resident kB of the mappings a release must never touch: writable, or holding copy-on-write copies (RELRO). */
function keptKb() {
  let kb = 0, header = '', rss = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) header = line;
    else if (line.startsWith('Rss:')) rss = parseInt(line.slice(4));
    else if (line.startsWith('Anonymous:') && header.includes('/') && (parseInt(line.slice(10)) > 0 || header.split(' ')[1][1] === 'w')) kb += rss;
  }
  return kb;
}
/** Work through V8, OpenSSL, zlib and libc whose answers must not change. */
function work(key) {
  const data = Buffer.from(JSON.stringify({ n: [...Array(500).keys()] }));
  const sig = sign('sha256', data, key.privateKey);
  return [createHash('sha256').update(data).digest('hex'), inflateSync(deflateSync(data)).equals(data), verify('sha256', data, key.publicKey, sig),
    typeof tls.createSecureContext({}).context, 'x'.repeat(3).localeCompare('xxx'), new Intl.NumberFormat('en').format(1234.5)].join(' ');
}
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const before = { answer: work(key), file: rssFileKb(), kept: keptKb() };
const released = await releaseUnusedPages();
const after = { file: rssFileKb(), kept: keptKb() };
const again = work(key);
process.stdout.write(JSON.stringify({ before, released, after, again }));
`;

test('releasing unused pages unmaps most of the node binary, keeps copy-on-write pages, and changes no answer', () => {
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8' })) as {
    before: { answer: string; file: number; kept: number };
    released: { mappings: number; fileBytes: number };
    after: { file: number; kept: number };
    again: string;
  };
  assert.equal(out.again, out.before.answer, 'the same work gives the same answers after the release');
  assert.ok(out.released.mappings > 0, `released ${out.released.mappings} mappings`);
  assert.ok(out.released.fileBytes > 20e6, `released ${out.released.fileBytes} bytes of file pages (a fresh node maps 40+ MB of its binary)`);
  assert.ok(out.before.file - out.after.file > 15_000, `RssFile ${out.before.file} → ${out.after.file} kB`);
  assert.ok(out.after.kept >= out.before.kept, `writable and copy-on-write mappings stay resident: ${out.before.kept} → ${out.after.kept} kB`);
});

// Workers map their own copy of V8's built-ins from the node binary and unmap it
// when they exit, after which the range may hold fresh heap memory. A release must
// never touch such a range: only the loaded objects' own segments are released.
const WORKER_CHURN = `
import { releaseUnusedPages } from './src/native/index.ts';
import { Worker } from 'node:worker_threads';
let rounds = 0, damaged = 0;
const until = Date.now() + 2000;
while (Date.now() < until) {
  const w = new Worker('setTimeout(() => {}, 20)', { eval: true });
  await new Promise((r) => w.once('online', r));
  const release = releaseUnusedPages();
  await new Promise((r) => w.once('exit', r));
  const live = Array.from({ length: 16 }, () => Buffer.alloc(1 << 20, 0xab));
  await release;
  for (const b of live) if (b.indexOf(0) !== -1) damaged++;
  rounds++;
}
process.stdout.write(JSON.stringify({ rounds, damaged }));
`;

test('releases racing with workers that start and exit leave every live buffer intact', () => {
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', WORKER_CHURN], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8' })) as { rounds: number; damaged: number };
  assert.ok(out.rounds > 5, `${out.rounds} rounds`);
  assert.equal(out.damaged, 0);
});
