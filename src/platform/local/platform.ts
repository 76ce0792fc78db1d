import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Deployment, Pod, Resource } from '../../api/index.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../control-plane/index.ts';
import { WeftError } from '../../errors/index.ts';
import {
  createServiceAccountToken, identityConfigFrom, identityName, TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY, WEFT_CONFIG_NAME,
  WEFT_CONFIG_NAMESPACE,
} from '../../identity/index.ts';
import { matchesLabels, parseLabelSelector, type ResourceStore } from '../../store/index.ts';
import { meshAddressPlan, nextFree, type AddressPlan } from './address-plan.ts';
import { controlPlaneAddresses, type ControlPlaneAddresses } from './control-plane-addresses.ts';
import { hostsFile } from './hosts-file.ts';
import { LocalPod, PROXY_CONTAINER } from './local-pod.ts';
import { isWeftProcess, platformDir, readMeshRecord, removeMeshRecord, writeMeshRecord } from './mesh-record.ts';
import { startMeshDashboard, type MeshDashboard, type MeshDashboardOptions } from './mesh-dashboard.ts';
import { meshNames, type MeshNames } from './names.ts';
import {
  createBridge, createPodNetwork, hostAddresses, hostRulesBackend, restoreServiceRules, teardownMesh, writeNetnsHosts, type RulesBackend,
} from './network.ts';
import { checkPlatformPrivileges } from './privileges.ts';
import { proxyEntry } from './proxy-build.ts';
import { serviceEnv } from './service-env.ts';
import { serviceRulesRestore, type ServiceRoute } from './service-rules.ts';
import { hasClusterIp, namespaceOf, type EndpointView, type ServiceView } from './service-view.ts';

/** Annotation (on a pod template or its Namespace) that injects the proxy. */
export const INJECT_ANNOTATION = 'weft.dev/inject';
/** Annotation on each Pod naming its network namespace (`weft exec`). */
export const NETNS_ANNOTATION = 'weft.dev/netns';
/** Label on each Pod naming its Deployment. */
export const DEPLOYMENT_LABEL = 'weft.dev/deployment';
/** Lifetime of projected service-account tokens; refreshed at 80%. */
const TOKEN_TTL_MS = 60 * 60 * 1000;

/** Options of {@link startLocalPlatform}; each field documents its default. */
export interface LocalPlatformOptions {
  /** Absolute state directory: the store's, the mesh's files and its name prefix. */
  readonly stateDir: string;
  /** Told about state changes, one line each. Default: nothing. */
  readonly log?: (line: string) => void;
  /** Passed to the control plane (addresses are set to the bridge's). */
  readonly controlPlane?: Omit<ControlPlaneOptions, 'identityAddr' | 'adminAddr' | 'log'>;
  /** Whether to start the control plane. Default true. */
  readonly withControlPlane?: boolean;
  /** Serve the dashboard (scraping every proxy) here, before anything else starts. Default: no dashboard. */
  readonly dashboard?: MeshDashboardOptions;
}

/** A running mesh on this machine. */
export interface LocalPlatform {
  readonly names: MeshNames;
  readonly plan: AddressPlan;
  readonly controlPlane: ControlPlane | undefined;
  /** The dashboard's URL, when it runs. */
  readonly dashboardUrl: string | undefined;
  /** Resolves once every desired pod exists and is ready. */
  whenReady(signal?: AbortSignal): Promise<void>;
  /** The running pods, by `ns/name`. */
  pods(): ReadonlyMap<string, LocalPod>;
  /** Stops every pod, the control plane, and removes everything the mesh created. */
  stop(): Promise<void>;
}

/**
 * Removes what an earlier run of the mesh in `stateDir` left behind (after a
 * crash, or for `weft down`): stops its supervisor if still alive, then deletes its
 * namespaces, processes, veths, bridge and rules. Resolves to what it found.
 */
export async function cleanupMesh(stateDir: string, options: { graceMs?: number } = {}): Promise<{ stoppedPid?: number; leftovers: boolean }> {
  const names = meshNames(stateDir);
  const record = readMeshRecord(stateDir);
  let stoppedPid: number | undefined;
  if (record !== undefined && record.pid !== process.pid && isWeftProcess(record.pid)) {
    stoppedPid = record.pid;
    process.kill(record.pid, 'SIGTERM');
    const deadline = Date.now() + (options.graceMs ?? 30_000);
    while (isWeftProcess(record.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isWeftProcess(record.pid)) process.kill(record.pid, 'SIGKILL');
  }
  await teardownMesh(names, record?.netns ?? []);
  rmSync(join(platformDir(stateDir), 'pods'), { recursive: true, force: true });
  removeMeshRecord(stateDir);
  return { ...(stoppedPid === undefined ? {} : { stoppedPid }), leftovers: record !== undefined };
}

/**
 * Starts the embedded platform over `store`:
 *
 *   privileges ─▶ clean leftovers ─▶ bridge ─▶ control plane (on the bridge address)
 *     ─▶ reconcile loop: Services get ClusterIPs, Deployments get Pods, Pods run in
 *        namespaces, Endpoints follow ready pods, hosts files and DNAT rules follow Services
 */
export async function startLocalPlatform(store: ResourceStore, options: LocalPlatformOptions): Promise<LocalPlatform> {
  await checkPlatformPrivileges();
  const stateDir = options.stateDir;
  const existing = readMeshRecord(stateDir);
  if (existing !== undefined && existing.pid !== process.pid && isWeftProcess(existing.pid)) {
    throw new WeftError('WEFT_ERR_PLATFORM_RUNNING', `Run weft down first: a mesh from state directory "${stateDir}" is already running (pid ${existing.pid})`);
  }
  await cleanupMesh(stateDir);
  const names = meshNames(stateDir);
  const plan = meshAddressPlan(stateDir, existing, await hostAddresses());
  if (plan === undefined) throw noAddressesError();
  const backend = await hostRulesBackend();
  const platform = new Platform(store, options, names, plan, backend);
  try {
    await platform.start();
  } catch (err) {
    await platform.stop().catch(() => {});
    throw err;
  }
  return platform;
}

function noAddressesError(): WeftError {
  return new WeftError('WEFT_ERR_PLATFORM_ADDRESSES', 'Remove some weft meshes: every 10.244.N.0/24 pod range is in use');
}

/**
 * Where `weft up` with `stateDir` would start its control plane, predicted as
 * {@link startLocalPlatform} chooses it (the same function, over this host's
 * addresses now): what `weft check --pre` probes. Reads, changes nothing.
 */
export async function plannedControlPlaneAddresses(stateDir: string): Promise<ControlPlaneAddresses> {
  const plan = meshAddressPlan(stateDir, readMeshRecord(stateDir), await hostAddresses());
  if (plan === undefined) throw noAddressesError();
  return controlPlaneAddresses(plan);
}

class Platform implements LocalPlatform {
  readonly names: MeshNames;
  readonly plan: AddressPlan;
  controlPlane: ControlPlane | undefined;
  #dashboard: MeshDashboard | undefined;
  readonly #store: ResourceStore;
  readonly #options: LocalPlatformOptions;
  readonly #backend: RulesBackend;
  readonly #log: (line: string) => void;
  readonly #pods = new Map<string, LocalPod>();
  readonly #hostNumbers = new Map<string, number>();
  readonly #tokenTimers = new Map<string, NodeJS.Timeout>();
  readonly #written = new Map<string, string>();
  readonly #abort = new AbortController();
  #seq = 0;
  #dirty = false;
  #running: Promise<void> | undefined;
  #stopped = false;
  #ready = false;
  readonly #readyWaiters = new Set<() => void>();
  /** Built at the first meshed pod, then shared by every pod of this platform. */
  #proxyEntry: string | undefined;

  constructor(store: ResourceStore, options: LocalPlatformOptions, names: MeshNames, plan: AddressPlan, backend: RulesBackend) {
    this.#store = store;
    this.#options = options;
    this.names = names;
    this.plan = plan;
    this.#backend = backend;
    this.#log = options.log ?? (() => {});
  }

  pods(): ReadonlyMap<string, LocalPod> { return this.#pods; }

  get dashboardUrl(): string | undefined { return this.#dashboard?.url; }

  async start(): Promise<void> {
    // First: an address the user chose that is taken fails the start before anything exists.
    if (this.#options.dashboard !== undefined) this.#dashboard = await startMeshDashboard(this.#store, this.#options.dashboard, this.#log);
    this.#record();
    await createBridge(this.names, this.plan);
    if (this.#options.withControlPlane !== false) {
      const at = controlPlaneAddresses(this.plan);
      this.controlPlane = await startControlPlane(this.#store, {
        ...this.#options.controlPlane,
        identityAddr: at.identity,
        destinationAddr: at.destination,
        adminAddr: at.admin,
        log: this.#log,
      });
    }
    // Pods in the store are from an earlier run: their processes are gone.
    for (const pod of (await this.#store.list('Pod')).items) {
      if (pod.metadata.annotations?.[NETNS_ANNOTATION] !== undefined) await this.#store.delete('Pod', pod.metadata.name, namespaceOf(pod));
    }
    this.#record();
    void this.#watch();
    this.poke();
  }

  async #watch(): Promise<void> {
    try {
      for await (const ev of this.#store.watch({ signal: this.#abort.signal })) {
        // ConfigMap: the trust-roots bundle, projected into every meshed pod.
        if (['Deployment', 'Pod', 'Service', 'Namespace', 'ServiceAccount', 'ConfigMap'].includes(ev.object.kind)) this.poke();
      }
    } catch (err) {
      if (!this.#stopped) this.#log(`platform: watch ended: ${String(err)}`);
    }
  }

  /** Asks for a reconcile; runs are serialised and coalesced. */
  poke(): void {
    this.#dirty = true;
    if (this.#running !== undefined || this.#stopped) return;
    this.#running = (async () => {
      while (this.#dirty && !this.#stopped) {
        this.#dirty = false;
        try {
          await this.#reconcile();
        } catch (err) {
          this.#log(`platform: reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
          await new Promise((r) => setTimeout(r, 500));
          this.#dirty = true;
        }
      }
      this.#running = undefined;
    })();
  }

  async #reconcile(): Promise<void> {
    const store = this.#store;
    // 1. Services get a virtual IP from the mesh's range.
    let services = (await store.list('Service')).items as unknown as ServiceView[];
    const taken = new Set(services.map((s) => s.spec.clusterIP).filter((ip): ip is string => ip !== undefined && ip.startsWith(`10.96.${this.plan.index}.`)).map((ip) => Number(ip.split('.')[3])));
    for (const svc of services) {
      if (!hasClusterIp(svc) || (svc.spec.clusterIP !== undefined && svc.spec.clusterIP !== '')) continue;
      const h = nextFree(taken, 10);
      if (h === undefined) throw new WeftError('WEFT_ERR_PLATFORM_ADDRESSES', `Cannot give Service "${svc.metadata.name}" a ClusterIP: ${this.plan.serviceCidr} is full`);
      taken.add(h);
      const stored = svc as unknown as Resource;
      await store.apply({ ...stored, spec: { ...svc.spec, clusterIP: this.plan.serviceIp(h) } } as never);
    }
    services = (await store.list('Service')).items as unknown as ServiceView[];

    // 2. Deployments → Pods.
    const deployments = (await store.list('Deployment')).items;
    let pods = (await store.list('Pod')).items;
    for (const d of deployments) await this.#scale(d, pods.filter((p) => p.metadata.labels?.[DEPLOYMENT_LABEL] === d.metadata.name && namespaceOf(p) === namespaceOf(d)));
    pods = (await store.list('Pod')).items;

    // 3. Run what is in the store; stop what is not.
    const wanted = new Map(pods.map((p) => [`${namespaceOf(p)}/${p.metadata.name}`, p]));
    for (const [key, local] of this.#pods) {
      if (!wanted.has(key)) {
        this.#pods.delete(key);
        await this.#stopPod(key, local);
      }
    }
    // Side by side: a pod's start is mostly waiting on ip/iptables and the proxy's
    // first certificate. Addresses and sequence numbers are taken before the first await.
    const starting = [...wanted].filter(([key]) => !this.#pods.has(key)).map(([key, pod]) => this.#startPod(key, pod, services));
    const failed = (await Promise.allSettled(starting)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;

    // 4. Status, Endpoints, rules and hosts follow.
    for (const [key, local] of this.#pods) {
      const pod = wanted.get(key);
      const status = local.status();
      if (pod !== undefined && JSON.stringify(pod.status ?? {}) !== JSON.stringify(status)) {
        await store.updateStatus({ kind: 'Pod', metadata: { name: pod.metadata.name, namespace: namespaceOf(pod) }, status }).catch(() => {});
      }
    }
    for (const [key, local] of this.#pods) if (local.meshed) await this.#writeTrustAnchors(key, local);
    const routes = await this.#syncEndpoints(services);
    await this.#syncNamespaces(services, routes);
    for (const d of deployments) await this.#deploymentStatus(d);
    this.#checkReady(deployments, pods);
  }

  async #scale(d: Deployment, pods: Pod[]): Promise<void> {
    const ns = namespaceOf(d);
    const hash = createHash('sha256').update(JSON.stringify(d.spec.template)).digest('hex').slice(0, 10);
    const current = pods.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
    for (const p of pods) if (!current.includes(p)) await this.#store.delete('Pod', p.metadata.name, ns);
    const want = d.spec.replicas ?? 1;
    for (const p of current.slice(want)) await this.#store.delete('Pod', p.metadata.name, ns);
    for (let i = current.length; i < want; i++) {
      const name = `${d.metadata.name}-${hash.slice(0, 8)}-${randomBytes(3).toString('hex').slice(0, 5)}`;
      const tmpl = d.spec.template;
      await this.#store.apply({
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          name, namespace: ns,
          labels: { ...tmpl.metadata?.labels, 'pod-template-hash': hash, [DEPLOYMENT_LABEL]: d.metadata.name },
          ...(tmpl.metadata?.annotations === undefined ? {} : { annotations: tmpl.metadata.annotations }),
          ...(d.metadata.uid === undefined ? {} : { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid, controller: true }] }),
        },
        spec: tmpl.spec,
      });
    }
  }

  async #injected(pod: Pod): Promise<boolean> {
    const own = pod.metadata.annotations?.[INJECT_ANNOTATION];
    if (own !== undefined) return own === 'enabled';
    const ns = await this.#store.get('Namespace', namespaceOf(pod));
    return ns?.metadata.annotations?.[INJECT_ANNOTATION] === 'enabled';
  }

  async #startPod(key: string, pod: Pod, services: readonly ServiceView[]): Promise<void> {
    const taken = new Set(this.#hostNumbers.values());
    const h = nextFree(taken);
    if (h === undefined) throw new WeftError('WEFT_ERR_PLATFORM_ADDRESSES', `Cannot start pod "${key}": ${this.plan.podCidr} is full`);
    this.#hostNumbers.set(key, h);
    this.#ready = false;
    const seq = ++this.#seq;
    const netns = this.names.netns(seq);
    const ns = namespaceOf(pod);
    const dir = join(platformDir(this.#options.stateDir), 'pods', `${ns}_${pod.metadata.name}`);
    mkdirSync(dir, { recursive: true });
    const meshed = await this.#injected(pod);
    const sa = pod.spec.serviceAccountName ?? 'default';
    await this.#ensureServiceAccount(sa, ns);
    const tokenFile = join(dir, 'token');
    const proxyDir = join(dir, 'proxy');
    const config = identityConfigFrom(await this.#store.get('ConfigMap', WEFT_CONFIG_NAME, WEFT_CONFIG_NAMESPACE));
    const identity = identityName({ serviceAccount: sa, namespace: ns }, { controlPlaneNamespace: config.controlPlaneNamespace, trustDomain: config.trustDomain });
    // Recorded before anything is created, so a crash from here on is cleaned up. A pod
    // injected by its Namespace says so itself, as an injected pod's spec would: discovery
    // then knows it is meshed before its first status is written.
    const annotations = { ...pod.metadata.annotations, [NETNS_ANNOTATION]: netns, ...(meshed ? { [INJECT_ANNOTATION]: 'enabled' } : {}) };
    await this.#store.apply({ ...pod, metadata: { ...pod.metadata, annotations } } as never).catch(() => {});
    const local = new LocalPod(pod, {
      seq, ip: this.plan.podIp(h), gateway: this.plan.gateway, podCidr: this.plan.podCidr, backend: this.#backend, dir, meshed,
      env: { ...serviceEnv(services, ns), WEFT_SERVICE_ACCOUNT_TOKEN_FILE: tokenFile, WEFT_POD_NAME: pod.metadata.name, WEFT_POD_NAMESPACE: ns },
      proxyEnv: {
        WEFT_PROXY_IDENTITY_NAME: identity,
        WEFT_PROXY_IDENTITY_TOKEN_FILE: tokenFile,
        WEFT_PROXY_IDENTITY_SVC_ADDR: controlPlaneAddresses(this.plan).identity,
        WEFT_PROXY_DESTINATION_SVC_ADDR: controlPlaneAddresses(this.plan).destination,
        // The proxy's own identity client asks for its certificate (the key never
        // leaves its memory), trusting the anchors the platform projects into ca.pem.
        WEFT_PROXY_TRUST_ANCHORS_FILE: join(proxyDir, 'ca.pem'),
        WEFT_PROXY_POD_NAME: pod.metadata.name,
        ...firstPort(pod),
        WEFT_PROXY_TRANSPARENT: 'true',
      },
      proxyEntry: meshed ? (this.#proxyEntry ??= proxyEntry({ log: this.#log })) : '',
      createNetwork: (s, ip) => createPodNetwork(this.names, this.plan, s, ip),
      prepareNamespace: async (n) => {
        const routes = await this.#routes(services);
        await restoreServiceRules(n, this.#backend, serviceRulesRestore(routes, { podCidr: this.plan.podCidr }));
        await writeNetnsHosts(n, hostsFile(services, ns, { podName: pod.metadata.name, podIp: this.plan.podIp(h) }));
      },
      onChange: () => this.poke(),
      log: this.#log,
    });
    this.#pods.set(key, local);
    this.#record();
    await this.#writeToken(local, sa, ns, pod.metadata.name);
    this.#tokenTimers.set(key, setInterval(() => void this.#writeToken(local, sa, ns, pod.metadata.name).catch(() => {}), TOKEN_TTL_MS * 0.8));
    if (meshed) await this.#writeTrustAnchors(key, local);
    try {
      await local.start();
      // Now with its namespace: weft down and the next weft up find it by the record too.
      this.#record();
      this.#log(`pod ${key} started in ${netns} at ${local.ip}${meshed ? ' (meshed)' : ''}`);
    } catch (err) {
      this.#log(`pod ${key} failed to start: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }

  async #ensureServiceAccount(name: string, namespace: string): Promise<void> {
    if (await this.#store.get('ServiceAccount', name, namespace) !== undefined) return;
    if (name !== 'default') throw new WeftError('WEFT_ERR_PLATFORM_NO_SERVICE_ACCOUNT', `Create ServiceAccount "${name}" in namespace "${namespace}": a pod uses it`);
    await this.#store.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
  }

  /** Projects a fresh token into the pod, and again at 80% of its lifetime. */
  async #writeToken(local: LocalPod, sa: string, namespace: string, podName: string): Promise<void> {
    const token = await createServiceAccountToken(this.#store, { serviceAccount: sa, namespace, podName, ttlMs: TOKEN_TTL_MS, now: Date.now() });
    local.writeFile('token', token);
  }

  /**
   * Projects the trust-roots bundle into a meshed pod (`proxy/ca.pem`), as a
   * ConfigMap volume would: the proxy's identity client re-reads it before every
   * call, so a trust-anchor rotation reaches it without a restart.
   */
  async #writeTrustAnchors(key: string, local: LocalPod): Promise<void> {
    const roots = await this.#store.get('ConfigMap', TRUST_ROOTS_CONFIG_MAP, WEFT_CONFIG_NAMESPACE);
    const anchors = roots?.data?.[TRUST_ROOTS_KEY] ?? '';
    if (anchors === '' || this.#written.get(`anchors:${key}`) === anchors) return;
    local.writeFile('proxy/ca.pem', anchors);
    this.#written.set(`anchors:${key}`, anchors);
  }

  async #stopPod(key: string, local: LocalPod): Promise<void> {
    const timer = this.#tokenTimers.get(key);
    if (timer !== undefined) clearInterval(timer);
    this.#tokenTimers.delete(key);
    this.#written.delete(`anchors:${key}`);
    await local.stop();
    this.#hostNumbers.delete(key);
    this.#written.delete(`rules:${key}`);
    this.#written.delete(`hosts:${key}`);
    this.#record();
    this.#log(`pod ${key} stopped`);
  }

  /** Each Service port's ready endpoints, from the running pods. */
  async #routes(services: readonly ServiceView[]): Promise<ServiceRoute[]> {
    const routes: ServiceRoute[] = [];
    for (const svc of services) {
      const ip = svc.spec.clusterIP;
      if (!hasClusterIp(svc) || ip === undefined || ip === '') continue;
      const eps = this.#endpoints(svc);
      for (const p of svc.spec.ports ?? []) {
        routes.push({
          label: `${namespaceOf(svc)}/${svc.metadata.name}:${p.port}`, clusterIp: ip, port: p.port,
          endpoints: eps.filter((e) => e.endpoint.ready && e.servicePort === p.port).map((e) => e.endpoint),
        });
      }
    }
    return routes;
  }

  #endpoints(svc: ServiceView): Array<{ servicePort: number; endpoint: EndpointView; portName?: string }> {
    const out: Array<{ servicePort: number; endpoint: EndpointView; portName?: string }> = [];
    const selector = svc.spec.selector;
    if (selector === undefined || Object.keys(selector).length === 0) return out;
    for (const local of this.#pods.values()) {
      const pod = local.pod;
      if (namespaceOf(pod) !== namespaceOf(svc) || !matchesLabels(parseLabelSelector(parseSelector(selector)), pod.metadata.labels ?? {})) continue;
      for (const p of svc.spec.ports ?? []) {
        const target = resolveTargetPort(p.targetPort ?? p.port, pod);
        if (target === undefined) continue;
        out.push({ servicePort: p.port, endpoint: { ip: local.ip, port: target, ready: local.ready(), pod: pod.metadata.name }, ...(p.name === undefined ? {} : { portName: p.name }) });
      }
    }
    return out;
  }

  /** Keeps one Endpoints object per selector Service, as Kubernetes' endpoints controller. */
  async #syncEndpoints(services: readonly ServiceView[]): Promise<ServiceRoute[]> {
    for (const svc of services) {
      if (svc.spec.selector === undefined) continue;
      const eps = this.#endpoints(svc);
      // One subset per service port: simple, and correct when pods resolve a named targetPort differently.
      const subsets = (svc.spec.ports ?? []).map((p) => {
        const mine = eps.filter((e) => e.servicePort === p.port);
        const address = (e: (typeof mine)[number]): Record<string, unknown> => ({ ip: e.endpoint.ip, targetRef: { kind: 'Pod', name: e.endpoint.pod, namespace: namespaceOf(svc) } });
        const ready = mine.filter((e) => e.endpoint.ready).map(address);
        const notReady = mine.filter((e) => !e.endpoint.ready).map(address);
        const port = mine[0]?.endpoint.port ?? (typeof p.targetPort === 'number' ? p.targetPort : p.port);
        return {
          ...(ready.length > 0 ? { addresses: ready } : {}),
          ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
          ports: [{ ...(p.name === undefined ? {} : { name: p.name }), port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }) }],
        };
      }).filter((s) => s.addresses !== undefined || s.notReadyAddresses !== undefined);
      const key = `endpoints:${namespaceOf(svc)}/${svc.metadata.name}`;
      const text = JSON.stringify(subsets);
      if (this.#written.get(key) === text) continue;
      await this.#store.apply({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace: namespaceOf(svc), labels: { 'weft.dev/managed-by': 'weft-platform' } }, subsets } as never);
      this.#written.set(key, text);
    }
    return this.#routes(services);
  }

  /** Rewrites each pod's DNAT rules and hosts file when they changed. */
  async #syncNamespaces(services: readonly ServiceView[], routes: readonly ServiceRoute[]): Promise<void> {
    const rules = serviceRulesRestore(routes, { podCidr: this.plan.podCidr });
    for (const [key, local] of this.#pods) {
      const netns = local.netns;
      if (netns === undefined) continue;
      if (this.#written.get(`rules:${key}`) !== rules) {
        await restoreServiceRules(netns, this.#backend, rules);
        this.#written.set(`rules:${key}`, rules);
      }
      const hosts = hostsFile(services, namespaceOf(local.pod), { podName: local.pod.metadata.name, podIp: local.ip });
      if (this.#written.get(`hosts:${key}`) !== hosts) {
        await writeNetnsHosts(netns, hosts);
        this.#written.set(`hosts:${key}`, hosts);
      }
    }
  }

  async #deploymentStatus(d: Deployment): Promise<void> {
    const mine = [...this.#pods.values()].filter((p) => p.pod.metadata.labels?.[DEPLOYMENT_LABEL] === d.metadata.name && namespaceOf(p.pod) === namespaceOf(d));
    const ready = mine.filter((p) => p.ready()).length;
    const status = { observedGeneration: d.metadata.generation ?? 1, replicas: mine.length, updatedReplicas: mine.length, readyReplicas: ready, availableReplicas: ready };
    if (JSON.stringify(d.status ?? {}) === JSON.stringify(status)) return;
    await this.#store.updateStatus({ kind: 'Deployment', metadata: { name: d.metadata.name, namespace: namespaceOf(d) }, status }).catch(() => {});
  }

  #checkReady(deployments: readonly Deployment[], pods: readonly Pod[]): void {
    const want = deployments.reduce((n, d) => n + (d.spec.replicas ?? 1), 0);
    const standalone = pods.filter((p) => p.metadata.labels?.[DEPLOYMENT_LABEL] === undefined).length;
    const ready = [...this.#pods.values()].filter((p) => p.ready()).length;
    // Not ready while another reconcile is due: it may still create pods.
    const now = !this.#dirty && this.#pods.size === want + standalone && ready === this.#pods.size;
    if (now !== this.#ready) {
      this.#ready = now;
      this.#record();
      if (now) for (const w of this.#readyWaiters) w();
    }
  }

  whenReady(signal?: AbortSignal): Promise<void> {
    if (this.#ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => { this.#readyWaiters.delete(done); resolve(); };
      this.#readyWaiters.add(done);
      signal?.addEventListener('abort', () => { this.#readyWaiters.delete(done); reject(signal.reason); }, { once: true });
    });
  }

  #record(): void {
    if (this.#stopped) return;
    writeMeshRecord(this.#options.stateDir, {
      meshId: this.names.id, pid: process.pid, addressIndex: this.plan.index, bridge: this.names.bridge,
      netns: [...this.#pods.values()].map((p) => p.netns).filter((n): n is string => n !== undefined),
      ready: this.#ready,
      pods: [...this.#pods.entries()].map(([k, p]) => `${k} ${p.ip}${p.pod.spec.containers.length > 0 ? '' : ''}`),
      ...(this.controlPlane === undefined ? {} : { controlPlane: { identity: this.controlPlane.identity.address, admin: this.controlPlane.adminAddress } }),
      ...(this.#dashboard === undefined ? {} : { dashboard: this.#dashboard.url }),
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    await this.#dashboard?.close().catch(() => {});
    await this.#running?.catch(() => {});
    for (const [key, local] of this.#pods) {
      await this.#stopPod(key, local).catch((err: unknown) => this.#log(`pod ${key}: ${String(err)}`));
      await this.#store.delete('Pod', local.pod.metadata.name, namespaceOf(local.pod)).catch(() => {});
    }
    this.#pods.clear();
    await this.controlPlane?.close().catch(() => {});
    await teardownMesh(this.names);
    rmSync(join(platformDir(this.#options.stateDir), 'pods'), { recursive: true, force: true });
    removeMeshRecord(this.#options.stateDir);
  }
}

function parseSelector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

function resolveTargetPort(target: number | string, pod: Pod): number | undefined {
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec.containers) for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  return undefined;
}

/** Plain clients reach a meshed pod through the inbound proxy: forward to the first container port. */
function firstPort(pod: Pod): Record<string, string> {
  const port = pod.spec.containers.flatMap((c) => c.ports ?? [])[0]?.containerPort;
  return port === undefined ? {} : { WEFT_PROXY_INBOUND_FORWARD_PORT: String(port) };
}

export { PROXY_CONTAINER };
