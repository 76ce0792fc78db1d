import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { metrics, sample, startMesh, waitFor } from './harness.ts';

const run = promisify(execFile);
const PEER_SRC = new URL('./go-h2-peer/', import.meta.url).pathname;

/** The Go toolchain: on PATH, or where the Go tarball installs it. CI provides it (.ci/setup-extra uses it too). */
function goBinary(): string {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error('Install Go (the tests build a Go HTTP/2 peer): no "go" on PATH nor /usr/local/go/bin/go');
}

test('A Go net/http client and server talk HTTP/2 through both proxies: 200 concurrent requests with 20 kB headers, trailers and large bodies, none failing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-go-h2-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const peer = join(dir, 'go-h2-peer');
  // Standard library only: nothing is downloaded (GOTOOLCHAIN=local keeps the installed Go).
  await run(goBinary(), ['build', '-o', peer, '.'], { cwd: PEER_SRC, env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' }, timeout: 300_000 });
  const portFile = join(dir, 'port');
  const server = spawn(peer, ['server', portFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  t.after(() => server.kill());
  let appPort = 0;
  await waitFor(() => {
    if (existsSync(portFile)) appPort = Number(readFileSync(portFile, 'utf8'));
    return appPort > 0;
  }, 'the Go server to listen');
  const m = await startMesh(t, {
    destinations: (bIn, bId) => [`app.test:${appPort}=127.0.0.1:${bIn}#${bId}`],
    targets: [`app.test:${appPort}`],
  });
  // The Go client checks each answer: request body sha256, response length, trailers
  // both ways, 40 echoed headers and the 20 kB one; it prints the failures.
  const { stdout } = await run(peer, ['client', String(m.a.ports.targets[0]!), '200'], { timeout: 120_000 });
  assert.match(stdout, /go client: 200 requests, 0 failures/, stdout);
  assert.equal(sample(await metrics(m.a), 'request_total', 'direction="outbound"', 'tls="true"'), 200);
});
