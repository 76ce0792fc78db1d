import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatProblem, validateResource, type Resource } from '../api/index.ts';
import { UsageError } from '../errors/index.ts';
import { identityConfigFrom, WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE } from '../identity/index.ts';
import { formatDuration } from '../pki/index.ts';
import { checkPlatformPrivileges, platformDir, readMeshRecord, rotationSettings, startLocalPlatform, type LocalPlatform } from '../platform/index.ts';
import type { ResourceStore } from '../store/index.ts';
import { DEFAULT_DASHBOARD_ADDRESS, parseDashboardAddress } from '../viz/index.ts';
import { documentLabel, readManifests } from './manifests.ts';
import { openCommandStore, stateDirOf, withStateDir } from './state-dir.ts';

/** Set in the environment of the background supervisor that `--detach` starts. */
const DETACHED_ENV = 'WEFT_UP_DETACHED';

/**
 * `weft up -f FILE`: the whole mesh on this machine — control plane, pods in
 * network namespaces, their proxies — until Ctrl-C (then everything is removed).
 * `--detach` leaves it running in the background and returns once every pod is ready.
 */
export function registerUp(program: Command): void {
  withStateDir(program.command('up'))
    .description('run a mesh on this machine from Kubernetes YAML: control plane, pods in network namespaces, proxies (needs root)')
    .option('-f, --filename <path...>', 'manifests to apply first (file, directory, or - for stdin)')
    .option('-d, --detach', 'run in the background; return once every pod is ready (stop with weft down)')
    .option('--timeout <seconds>', 'with --detach: how long to wait for readiness', '120')
    .option('--issuer-duration <duration>', 'on first start: the identity issuer Certificate\'s duration (default 48h; at least 1h)')
    .option('--issuer-renew-before <duration>', 'on first start: the issuer\'s renewBefore (default 25h; at least 5m)')
    .option('--issuance-lifetime <duration>', 'on first start: workload certificates\' lifetime (default 24h; proxies renew at 70%)')
    .option('--dashboard-addr <host:port>', `where to serve the dashboard (default ${DEFAULT_DASHBOARD_ADDRESS}; port 0 picks a free one)`)
    .option('--no-dashboard', 'do not serve the dashboard (weft viz dashboard can, later)')
    .action(async (opts: UpFlags, command: Command) => {
      const stateDir = resolve(stateDirOf(command));
      // The default address may be held by another mesh: then weft up runs without a dashboard and says so.
      const dashboard = opts.dashboard === false ? undefined
        : { ...parseDashboardAddress(opts.dashboardAddr ?? DEFAULT_DASHBOARD_ADDRESS, '--dashboard-addr'), optional: opts.dashboardAddr === undefined };
      await checkPlatformPrivileges();
      const rotation = rotationSettings(opts);
      for (const w of rotation.warnings) process.stderr.write(`warning: ${w}\n`);
      const documents = opts.filename === undefined ? [] : validManifests(opts.filename);
      if (opts.detach === true) {
        await detach(stateDir, Number(opts.timeout) * 1000);
        return;
      }
      const store = openCommandStore(command);
      const log = (line: string): void => { process.stderr.write(`${new Date().toISOString()} ${line}\n`); };
      let platform;
      try {
        // Applied first, so the first reconcile already sees every Deployment and Service.
        await applyAll(store, documents);
        platform = await startLocalPlatform(store, {
          stateDir, log,
          ...(dashboard === undefined ? {} : { dashboard }),
          controlPlane: {
            ...(rotation.issuer === undefined ? {} : { issuer: rotation.issuer }),
            ...(rotation.issuanceLifetimeMs === undefined ? {} : { config: { issuanceLifetimeMs: rotation.issuanceLifetimeMs } }),
          },
        });
      } catch (err) {
        if (process.env[DETACHED_ENV] === '1') log(`error: ${err instanceof Error ? err.message : String(err)}`);
        await platform?.stop();
        store.close();
        throw err;
      }
      const cp = platform.controlPlane;
      for (const line of cp?.created ?? []) process.stdout.write(`${line}\n`);
      process.stdout.write(`Mesh ${platform.names.id} running (state in ${stateDir}):\n`);
      process.stdout.write(`  pods      ${platform.plan.podCidr} on bridge ${platform.names.bridge}; services ${platform.plan.serviceCidr}\n`);
      if (cp !== undefined) {
        process.stdout.write(`  identity  ${cp.identity.address}; destination ${cp.destination.address}\n  admin     http://${cp.adminAddress}/ready\n`);
        process.stdout.write(`  rotation  ${await rotationLine(store)}\n`);
      }
      if (platform.dashboardUrl !== undefined) process.stdout.write(`  dashboard ${platform.dashboardUrl}\n`);
      process.stdout.write(`  logs      ${join(platformDir(stateDir), 'pods')} (weft logs POD)\nStop with Ctrl-C or weft down.\n`);
      // A second Ctrl-C (impatience, or a signal relayed by npm) must not kill the
      // supervisor half-way through removing what it created.
      let stopping = false;
      let told = false;
      const stop = new Promise<string>((res) => {
        const on = (sig: string) => (): void => {
          if (stopping) {
            if (!told) process.stderr.write('Still stopping the mesh: wait a few seconds.\n');
            told = true;
            return;
          }
          stopping = true;
          res(sig);
        };
        process.on('SIGINT', on('SIGINT'));
        process.on('SIGTERM', on('SIGTERM'));
        process.on('SIGHUP', on('SIGHUP'));
      });
      void platform.whenReady().then(async () => {
        if (stopping) return;
        process.stdout.write(`Every pod is ready.\n${await whereToLook(store, platform, stateDir)}`);
      }).catch(() => {});
      const signal = await stop;
      process.stdout.write(`Stopping the mesh (${signal}): pods, namespaces, bridge, rules…\n`);
      await platform.stop();
      store.close();
      process.stdout.write('Stopped; nothing is left behind.\n');
    });
}

interface UpFlags {
  filename?: string[];
  detach?: boolean;
  timeout: string;
  issuerDuration?: string;
  issuerRenewBefore?: string;
  issuanceLifetime?: string;
  dashboardAddr?: string;
  dashboard: boolean;
}

/** The issuer Certificate's and workload certificates' lifetimes, as the store holds them. */
async function rotationLine(store: ResourceStore): Promise<string> {
  const config = identityConfigFrom(await store.get('ConfigMap', WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE));
  const cert = await store.get('Certificate', config.issuerSecretName, config.controlPlaneNamespace) as { spec?: { duration?: string; renewBefore?: string } } | undefined;
  const issuer = cert === undefined
    ? `issuer Secret "${config.controlPlaneNamespace}/${config.issuerSecretName}" (not managed by a Certificate)`
    : `issuer Certificate "${config.controlPlaneNamespace}/${config.issuerSecretName}" lives ${cert.spec?.duration ?? '90d'}, renewed ${cert.spec?.renewBefore ?? '1/3 of it'} before expiry`;
  return `${issuer}; workload certificates live ${formatDuration(config.issuanceLifetimeMs)} (proxies renew at 70%)`;
}

/** For each Service, a command that reaches it from inside the mesh. */
async function whereToLook(store: ResourceStore, platform: LocalPlatform, stateDir: string): Promise<string> {
  const services = (await store.list('Service')).items as unknown as Array<{ metadata: { name: string; namespace?: string }; spec: { clusterIP?: string; ports?: Array<{ port: number; name?: string; appProtocol?: string }> } }>;
  const lines: string[] = [];
  const flag = process.env['WEFT_STATE_DIR'] === stateDir ? '' : ` --state-dir ${stateDir}`;
  for (const svc of services) {
    const ns = svc.metadata.namespace ?? 'default';
    // curl speaks HTTP/1: offer it for the first port that is not gRPC.
    const port = svc.spec.ports?.find((p) => !/grpc|h2/i.test(`${p.name ?? ''} ${p.appProtocol ?? ''}`))?.port;
    const from = [...platform.pods().values()].find((p) => (p.pod.metadata.namespace ?? 'default') === ns);
    const deploy = from?.pod.metadata.labels?.['weft.dev/deployment'];
    if (port === undefined || svc.spec.clusterIP === undefined || deploy === undefined) continue;
    lines.push(`  weft exec${flag} deploy/${deploy} -n ${ns} -- curl -s http://${svc.metadata.name}.${ns}${port === 80 ? '' : `:${port}`}/    # ${svc.spec.clusterIP}`);
  }
  return lines.length === 0 ? '' : `Reach a Service from inside the mesh:\n${lines.join('\n')}\n`;
}

/** Reads and validates every manifest before anything starts: a typo must not leave half a mesh. */
function validManifests(paths: string[]): Resource[] {
  const { documents, errors } = readManifests(paths);
  const problems = errors.map((e) => `${e.source}: document ${e.index}: ${e.message}`);
  const out: Resource[] = [];
  for (const doc of documents) {
    const v = validateResource(doc.value);
    if (!v.ok) problems.push(...v.problems.map((p) => `${doc.source}: document ${doc.index} (${documentLabel(doc.value)}): ${formatProblem(p)}`));
    else out.push(v.resource);
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    throw new UsageError(`Fix the ${problems.length} problem(s) above and run weft up again: nothing was started`);
  }
  return out;
}

/** Namespaces first; a Service keeps the ClusterIP it was given when the file names none. */
async function applyAll(store: ResourceStore, documents: Resource[]): Promise<void> {
  const ordered = [...documents.filter((d) => d.kind === 'Namespace'), ...documents.filter((d) => d.kind !== 'Namespace')];
  for (const doc of ordered) {
    if (doc.kind === 'Service') {
      const spec = (doc.spec ?? {}) as { clusterIP?: string };
      const old = (await store.get('Service', doc.metadata.name, doc.metadata.namespace)) as Resource | undefined;
      const oldIp = (old?.spec as { clusterIP?: string } | undefined)?.clusterIP;
      if ((spec.clusterIP === undefined || spec.clusterIP === '') && oldIp !== undefined) doc.spec = { ...spec, clusterIP: oldIp };
    }
    await store.apply(doc);
  }
}

/** Starts this same command in the background and waits for its mesh to be ready. */
async function detach(stateDir: string, timeoutMs: number): Promise<void> {
  const dir = platformDir(stateDir);
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'supervisor.log');
  const fd = openSync(logFile, 'w');
  const args = process.argv.slice(1).filter((a) => a !== '--detach' && a !== '-d');
  if (!args.includes('--state-dir')) args.push('--state-dir', stateDir);
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, [DETACHED_ENV]: '1' } });
  let exited: number | null | undefined;
  child.once('exit', (code) => { exited = code; });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = readMeshRecord(stateDir);
    if (record !== undefined && record.pid === child.pid && record.ready) {
      process.stdout.write(`Mesh running in the background (pid ${record.pid}); every pod is ready:\n`);
      for (const p of record.pods) process.stdout.write(`  ${p}\n`);
      if (record.dashboard !== undefined) process.stdout.write(`Dashboard: ${record.dashboard}\n`);
      process.stdout.write(`Supervisor log: ${logFile}\nStop it with weft down${stateDir === undefined ? '' : ` --state-dir ${stateDir}`}.\n`);
      return;
    }
    if (exited !== undefined) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').filter((l) => /error/i.test(l)).pop() ?? '';
      throw new UsageError(`Fix the problem and run weft up again: the mesh stopped during start-up (${tail.replace(/^\S+ /, '') || `exit code ${exited}`}); see ${logFile}`);
    }
    if (Date.now() > deadline) {
      throw new UsageError(`Look at ${logFile} and weft get pods: the mesh is running (pid ${child.pid}) but not every pod was ready within ${timeoutMs / 1000}s; weft down stops it`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
