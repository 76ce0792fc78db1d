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
