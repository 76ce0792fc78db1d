import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meshNames, readMeshRecord } from '../../src/platform/index.ts';
import { openStore } from '../../src/store/index.ts';

const WEFT = join(import.meta.dirname, '../../bin/weft.js');
const MESH = join(import.meta.dirname, 'fixtures/two-tier.yaml');

function weft(stateDir: string, command: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // --state-dir right after the subcommand: after `--` it would belong to the command exec runs.
    execFile(process.execPath, [WEFT, command, '--state-dir', stateDir, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** Polls `check` until it returns a value (bounded), never sleeping a fixed time for a result. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function hostState(stateDir: string): { netns: string[]; links: string[]; rules: string[] } {
  const names = meshNames(stateDir);
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(names.netnsPrefix));
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(names.id));
  const rules = spawnSync('iptables', ['-S', 'FORWARD'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(names.id));
  return { netns, links, rules };
}

/** A process counts as gone once it is dead or a zombie waiting for init to reap it. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function podPids(netns: string): number[] {
  return spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split(/\s+/).filter((p) => p !== '').map(Number);
}

async function podsOf(stateDir: string, deployment: string) {
  const store = openStore({ stateDir });
  try {
    return (await store.list('Pod', { namespace: 'demo', labelSelector: `weft.dev/deployment=${deployment}` })).items;
  } finally {
    store.close();
  }
}

async function readyAddresses(stateDir: string, service: string): Promise<string[]> {
  const store = openStore({ stateDir });
  try {
    const ep = await store.get('Endpoints', service, 'demo') as { subsets?: Array<{ addresses?: Array<{ ip: string }> }> } | undefined;
    return (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
  } finally {
    store.close();
  }
}

test('weft up runs a two-tier mesh from YAML: Service names, endpoints, restarts, crash recovery and weft down', { timeout: 300_000 }, async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'weft-platform-test-'));
  t.after(async () => {
    await weft(stateDir, 'down');
    rmSync(stateDir, { recursive: true, force: true });
  });

  const up = await weft(stateDir, 'up', '-f', MESH, '--detach');
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /every pod is ready/);

  await t.test('a pod reaches another through its Service name with weft exec', async () => {
    const r = await weft(stateDir, 'exec', 'deploy/frontend', '-n', 'demo', '--', 'curl', '-sS', '-m', '5', 'http://frontend/');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^frontend via 10\.96\.\d+\.\d+: backend backend-/);
    const direct = await weft(stateDir, 'exec', 'deploy/frontend', '-n', 'demo', '--', 'node', '-e',
      "fetch('http://backend.demo.svc.cluster.local/').then(async (r) => console.log(await r.text()))");
    assert.match(direct.stdout, /^backend backend-/);
  });

  await t.test('weft get shows pod IPs, readiness and meshing', async () => {
    const r = await weft(stateDir, 'get', 'pods', '-n', 'demo');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /READY\s+STATUS\s+RESTARTS\s+IP\s+MESHED/);
    assert.equal(r.stdout.match(/1\/1\s+Running\s+0\s+10\.244\.\d+\.\d+\s+no/g)?.length, 3, r.stdout);
  });

  await t.test('a killed container restarts, and endpoints follow its readiness', async () => {
    const pods = await podsOf(stateDir, 'backend');
    assert.equal(pods.length, 2);
    const victim = pods[0];
    assert.ok(victim !== undefined);
    assert.deepEqual(await readyAddresses(stateDir, 'backend'), pods.map((p) => p.status?.podIP ?? '').sort());
    const netns = victim.metadata.annotations?.['weft.dev/netns'] ?? '';
    for (const pid of podPids(netns)) process.kill(pid, 'SIGKILL');
    await until('the endpoint to leave', async () => ((await readyAddresses(stateDir, 'backend')).length === 1 ? true : undefined));
    const restarted = await until('the restart', async () => {
      const p = (await podsOf(stateDir, 'backend')).find((x) => x.metadata.name === victim.metadata.name);
      const s = p?.status?.containerStatuses?.[0];
      return s !== undefined && s.restartCount >= 1 && s.ready ? s : undefined;
    });
    assert.equal(restarted.restartCount, 1);
    await until('the endpoint to return', async () => ((await readyAddresses(stateDir, 'backend')).length === 2 ? true : undefined));
    const logs = await weft(stateDir, 'logs', victim.metadata.name, '-n', 'demo');
    assert.match(logs.stdout, /killed by SIGKILL; restarting in \d+ ms/);
  });

  await t.test('after a crash of the supervisor, the next weft up cleans up and starts again', async () => {
    const record = readMeshRecord(stateDir);
    assert.ok(record !== undefined);
    const oldPids = record.netns.flatMap(podPids);
    assert.ok(oldPids.length >= 3);
    process.kill(record.pid, 'SIGKILL');
    await until('the supervisor to die', () => (alive(record.pid) ? undefined : true));
    assert.ok(hostState(stateDir).netns.length >= 3, 'namespaces outlive the crashed supervisor');
    const again = await weft(stateDir, 'up', '-f', MESH, '--detach');
    assert.equal(again.code, 0, again.stderr);
    for (const pid of oldPids) await until(`process ${pid} of the crashed mesh to be gone`, () => (alive(pid) ? undefined : true), 5000);
    assert.equal(hostState(stateDir).netns.length, 3);
    const r = await weft(stateDir, 'exec', 'deploy/frontend', '-n', 'demo', '--', 'curl', '-sS', '-m', '5', 'http://frontend.demo/');
    assert.match(r.stdout, /backend backend-/);
  });

  await t.test('weft down leaves no namespace, link, rule or process', async () => {
    const record = readMeshRecord(stateDir);
    assert.ok(record !== undefined);
    const pids = [record.pid, ...record.netns.flatMap(podPids)];
    const down = await weft(stateDir, 'down');
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(hostState(stateDir), { netns: [], links: [], rules: [] });
    for (const pid of pids) await until(`process ${pid} to be gone`, () => (alive(pid) ? undefined : true), 5000);
    assert.equal(readMeshRecord(stateDir), undefined);
  });
});
