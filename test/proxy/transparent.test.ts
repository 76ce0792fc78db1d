/**
 * Transparent mode for real: two "pods" (network namespaces) with proxy-init's
 * iptables rules, each running `node src/cli/proxy.ts` as uid 2102 with only the
 * environment the embedded platform passes (WEFT_PROXY_IDENTITY_*, WEFT_PROXY_DESTINATION_SVC_ADDR,
 * WEFT_PROXY_TRANSPARENT=true), against a real control plane in this process.
 *
 *   pod A: client ─▶ 10.a.(b+3).10:80 (a ClusterIP) ─iptables─▶ proxy A :4140 ─ SO_ORIGINAL_DST ─▶ destination
 *          proxy A ══ mTLS ══▶ 10.a.b.3:4143 ─▶ proxy B ─▶ 127.0.0.1:8080 ─▶ app            (pod B)
 *   pods ◀── veth per pod ──▶ this process (control plane on 10.a.(b+1).1, admin scrapes)
 *
 * Needs root; names and subnets are unique per run, and everything is removed in t.after.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startControlPlane } from '../../src/control-plane/index.ts';
import { createServiceAccountToken, identityName, TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY } from '../../src/identity/index.ts';
import { openStore } from '../../src/store/index.ts';
import { sample, waitFor } from './harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const NODE = process.execPath;
const PROXY_UID = '2102';

function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** GET `http://host:port/path` from the test process. */
function get(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * Runs `node -e script` inside `netns` (as root: its traffic is redirected) and
 * resolves to its stdout. Asynchronous: the control plane runs in this process.
 */
async function inPod(netns: string, script: string): Promise<string> {
  const { stdout } = await promisify(execFile)('ip', ['netns', 'exec', netns, NODE, '-e', script], { encoding: 'utf8', timeout: 15_000 });
  return stdout;
}

const httpGet = (url: string): string => `
  require('node:http').get(${JSON.stringify(url)}, { agent: false }, (res) => {
    let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => { process.stdout.write(res.statusCode + ' ' + b); });
  }).on('error', (e) => { process.stdout.write('error ' + e.message); });`;

test('Transparent mode: an app reaches a ClusterIP in another pod through both proxies with mTLS, and an unknown IP in plain text', async (t: TestContext) => {
  assert.equal(process.getuid?.(), 0, 'this test creates network namespaces: run it as root');
  const id = `${process.pid % 1000}${Math.floor(Math.random() * 1000)}`.padStart(6, '0').slice(-6);
  const a = 150 + Math.floor(Math.random() * 40);
  const b = Math.floor(Math.random() * 60) * 4;
  const podNet = `10.${a}.${b}`;
  const ctlA = `10.${a}.${b + 1}`;
  const ctlB = `10.${a}.${b + 2}`;
  const clusterIp = `10.${a}.${b + 3}.10`;
  const nsA = `wtpa${id}`;
  const nsB = `wtpb${id}`;
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'weft-proxy-transparent-'));
  t.after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const ns of [nsA, nsB]) {
      try { sh('ip', 'netns', 'pids', ns).split('\n').filter((p) => p !== '').forEach((p) => process.kill(Number(p), 'SIGKILL')); } catch { /* gone */ }
      try { sh('ip', 'netns', 'del', ns); } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  // Network: A ⟷ B on the pod link; each pod ⟷ this process on its own control link.
  sh('ip', 'netns', 'add', nsA);
  sh('ip', 'netns', 'add', nsB);
  sh('ip', 'link', 'add', `wta${id}`, 'netns', nsA, 'type', 'veth', 'peer', 'name', `wtb${id}`, 'netns', nsB);
  sh('ip', 'link', 'add', `wca${id}`, 'type', 'veth', 'peer', 'name', 'ctl0', 'netns', nsA);
  sh('ip', 'link', 'add', `wcb${id}`, 'type', 'veth', 'peer', 'name', 'ctl0', 'netns', nsB);
  sh('ip', 'addr', 'add', `${ctlA}.1/24`, 'dev', `wca${id}`);
  sh('ip', 'addr', 'add', `${ctlB}.1/24`, 'dev', `wcb${id}`);
  sh('ip', 'link', 'set', `wca${id}`, 'up');
  sh('ip', 'link', 'set', `wcb${id}`, 'up');
  const pod = (ns: string, dev: string, podIp: string, ctl: string): void => {
    const n = (...args: string[]): string => sh('ip', '-n', ns, ...args);
    n('link', 'set', 'lo', 'up');
    n('addr', 'add', `${podIp}/24`, 'dev', dev);
    n('link', 'set', dev, 'up');
    n('addr', 'add', `${ctl}.2/24`, 'dev', 'ctl0');
    n('link', 'set', 'ctl0', 'up');
    // The control plane listens on A's control link address; B reaches it over its own link.
    if (ctl !== ctlA) n('route', 'add', `${ctlA}.1/32`, 'via', `${ctl}.1`);
    // The "ClusterIP" range exists only as a route (kube-proxy-less): iptables redirects before it matters.
    n('route', 'add', `${clusterIp.split('.').slice(0, 3).join('.')}.0/24`, 'dev', dev);
  };
  pod(nsA, `wta${id}`, `${podNet}.2`, ctlA);
  pod(nsB, `wtb${id}`, `${podNet}.3`, ctlB);
  for (const ns of [nsA, nsB]) {
    execFileSync(NODE, [join(ROOT, 'bin/weft.js'), 'proxy-init', '--netns', ns, '--ipv6', 'off'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  // The control plane, its objects, and the files each proxy reads (uid 2102 must read them).
  const store = openStore({ stateDir: join(dir, 'store') });
  const cp = await startControlPlane(store, { identityAddr: `${ctlA}.1:0`, destinationAddr: `${ctlA}.1:0`, adminAddr: '127.0.0.1:0' });
  t.after(async () => {
    await cp.close();
    store.close();
  });
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  for (const sa of ['web', 'api']) await store.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: 'shop' } });
  const inject = { 'weft.dev/inject': 'enabled' };
  for (const [name, sa, ip] of [['web-0', 'web', `${podNet}.2`], ['api-0', 'api', `${podNet}.3`]] as const) {
    await store.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', annotations: inject }, spec: { serviceAccountName: sa, containers: [{ name: 'app', command: ['true'] }] } });
    await store.updateStatus({ kind: 'Pod', metadata: { name, namespace: 'shop' }, status: { phase: 'Running', podIP: ip } });
  }
  await store.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'shop' }, spec: { clusterIP: clusterIp, selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
  await store.apply({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'api', namespace: 'shop' }, subsets: [{ addresses: [{ ip: `${podNet}.3`, targetRef: { kind: 'Pod', name: 'api-0', namespace: 'shop' } }], ports: [{ name: 'http', port: 8080 }] }] });
  chmodSync(dir, 0o755);
  const anchors = join(dir, 'anchors.pem');
  writeFileSync(anchors, String((await store.get('ConfigMap', TRUST_ROOTS_CONFIG_MAP, 'weft'))?.data?.[TRUST_ROOTS_KEY] ?? ''), { mode: 0o644 });
  const ident = (sa: string): string => identityName({ namespace: 'shop', serviceAccount: sa }, { controlPlaneNamespace: 'weft', trustDomain: 'cluster.local' });

  const spawnIn = (ns: string, args: string[], env: Record<string, string>, asProxy: boolean): ChildProcess => {
    const cmd = asProxy ? ['setpriv', '--reuid', PROXY_UID, '--regid', PROXY_UID, '--clear-groups', NODE, ...args] : [NODE, ...args];
    const c = spawn('ip', ['netns', 'exec', ns, ...cmd], { env: { PATH: process.env['PATH'] ?? '', ...(process.env['GRPC_TRACE'] === undefined ? {} : { GRPC_TRACE: process.env['GRPC_TRACE'], GRPC_VERBOSITY: 'DEBUG' }), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    c.on('exit', (code) => { if (process.env['WEFT_TEST_LOG'] === '1') process.stderr.write(`${ns} exited ${code}: ${err}\n`); });
    children.push(c);
    return c;
  };
  for (const [ns, sa] of [[nsA, 'web'], [nsB, 'api']] as const) {
    const token = join(dir, `${sa}.token`);
    writeFileSync(token, await createServiceAccountToken(store, { namespace: 'shop', serviceAccount: sa, ttlMs: 3_600_000, now: Date.now() }), { mode: 0o644 });
    spawnIn(ns, [join(ROOT, 'src/cli/proxy.ts')], {
      WEFT_PROXY_IDENTITY_NAME: ident(sa),
      WEFT_PROXY_IDENTITY_TOKEN_FILE: token,
      WEFT_PROXY_IDENTITY_SVC_ADDR: cp.identity.address,
      WEFT_PROXY_DESTINATION_SVC_ADDR: cp.destination.address,
      WEFT_PROXY_TRUST_ANCHORS_FILE: anchors,
      WEFT_PROXY_TRANSPARENT: 'true',
      WEFT_PROXY_LOG_LEVEL: process.env['WEFT_TEST_LOG'] === '1' ? 'debug' : 'warn',
      HOME: dir,
    }, true);
  }
  // The application in pod B, and a server outside the mesh (this process) on A's control link.
  spawnIn(nsB, ['-e', "require('node:http').createServer((q, s) => s.end('api says hi to ' + (q.headers['l5d-client-id'] || 'nobody'))).listen(8080, '127.0.0.1')"], {}, false);
  const outside = http.createServer((_q, s) => s.end('outside'));
  await new Promise<void>((r) => outside.listen(0, `${ctlA}.1`, r));
  t.after(() => outside.close());
  const outsidePort = (outside.address() as { port: number }).port;

  const admin = (podCtl: string): Promise<{ status: number; body: string }> => get(`${podCtl}.2`, 4191, '/ready');
  await waitFor(async () => (await admin(ctlA).catch(() => ({ status: 0 }))).status === 200 && (await admin(ctlB).catch(() => ({ status: 0 }))).status === 200, 'both proxies ready (certificate and destination)', 30_000);

  const viaClusterIp = await inPod(nsA, httpGet(`http://${clusterIp}/`));
  assert.equal(viaClusterIp, `200 api says hi to ${ident('web')}`);
  const plain = await inPod(nsA, httpGet(`http://${ctlA}.1:${outsidePort}/`));
  assert.equal(plain, '200 outside');

  const am = (await get(`${ctlA}.2`, 4191, '/metrics')).body;
  const bm = (await get(`${ctlB}.2`, 4191, '/metrics')).body;
  assert.equal(sample(am, 'request_total', 'direction="outbound"', `authority="${clusterIp}:80"`, 'tls="true"', `server_id="${ident('api')}"`), 1);
  assert.equal(sample(am, 'request_total', 'direction="outbound"', `authority="${ctlA}.1:${outsidePort}"`, 'tls="no_identity"'), 1);
  assert.equal(sample(am, 'tcp_open_total', 'direction="outbound"', 'peer="dst"', 'tls="true"'), 1);
  assert.equal(sample(bm, 'request_total', 'direction="inbound"', 'tls="true"', `client_id="${ident('web')}"`), 1);
  assert.ok(sample(am, 'identity_cert_refresh_count', 'result="ok"') >= 1);
});
