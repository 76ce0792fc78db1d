import { chmodSync, chownSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ContainerStatus, Pod, PodStatus, Probe } from '../../api/index.ts';
import { proxyInit, proxyInitOptions, systemHost } from '../../proxy-init/index.ts';
import { containerCommand } from './container-command.ts';
import { ContainerProcess } from './container-process.ts';
import { createPodNetwork, deletePodNetwork, hookServiceChains, type RulesBackend } from './network.ts';
import { runProbe } from './probe.ts';

/** The proxy's uid: proxy-init exempts its traffic from redirection. */
export const PROXY_UID = 2102;
/**
 * `node` flags every proxy runs with; bench/dataplane.ts starts its weft proxies with
 * these too, so the benchmark measures the sidecar as the platform runs it
 * (measurements in bench/README.md).
 * - `--max-semi-space-size=1`: a 1 MB young generation. Under HTTP/2 load V8 otherwise
 *   grows it far beyond what is live (~220 → ~105 MB peak RSS).
 * - `--heap-growing-percent=100`: a full GC when the old generation has doubled since
 *   the last one. With a small young generation HTTP/2 stream objects are promoted and
 *   die there; V8's own factor (up to 4× for a small heap) let ~8 MB of live objects
 *   grow to ~32 MB of old space before collecting: HTTP/2 and gRPC peak RSS ~110 → ~91 MB.
 *   HTTP/1 and TCP keep a small old generation and do not change.
 * - `--no-async-context-frame`: node 24 switches an AsyncLocalStorage context frame on
 *   every callback into JavaScript (each socket read, each write completion); the
 *   proxy uses no AsyncLocalStorage, so the frame is pure cost (~1 µs per request per
 *   hop on opaque TCP, bench/README.md). With it off, AsyncLocalStorage still works,
 *   through async_hooks.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--heap-growing-percent=100', '--no-async-context-frame'];
/** The proxy's admin port (`/ready`, `/metrics`). */
const PROXY_ADMIN_PORT = 4191;
const PROXY_READINESS: Probe = { httpGet: { path: '/ready', port: PROXY_ADMIN_PORT }, periodSeconds: 2 };
/** Name of the proxy in containerStatuses and `weft logs -c`. */
export const PROXY_CONTAINER = 'weft-proxy';

/** What a pod needs from the platform that runs it. */
export interface LocalPodContext {
  readonly seq: number;
  readonly ip: string;
  readonly gateway: string;
  readonly podCidr: string;
  readonly backend: RulesBackend;
  /** This pod's directory: logs, token, proxy credentials. */
  readonly dir: string;
  readonly meshed: boolean;
  /** Extra environment for every container (service variables). */
  readonly env: Readonly<Record<string, string>>;
  /** Environment of the proxy (identity, destination, credential files). */
  readonly proxyEnv: Readonly<Record<string, string>>;
  /** The script the proxy runs: the stripped copy of src/cli/proxy.ts (proxy-build.ts); unused unless meshed. */
  readonly proxyEntry: string;
  readonly createNetwork: (seq: number, ip: string) => ReturnType<typeof createPodNetwork>;
  /** Writes hosts and service rules into the fresh namespace before anything runs in it. */
  readonly prepareNamespace: (netns: string) => Promise<void>;
  readonly onChange: () => void;
  readonly log: (line: string) => void;
}

interface Probed {
  readonly probe: Probe | undefined;
  readonly port: number | undefined;
  ready: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * One pod on this machine:
 *
 *   namespace + veth ─▶ hosts, service rules ─▶ proxy-init (meshed) ─▶ proxy ─▶ containers ─▶ probes
 *
 * Stopping reverses it and removes the namespace.
 */
export class LocalPod {
  readonly pod: Pod;
  readonly #ctx: LocalPodContext;
  #netns: string | undefined;
  readonly #containers = new Map<string, ContainerProcess>();
  readonly #probed = new Map<string, Probed>();
  #proxy: ContainerProcess | undefined;
  #stopped = false;
  readonly startTime = new Date();

  constructor(pod: Pod, ctx: LocalPodContext) {
    this.pod = pod;
    this.#ctx = ctx;
  }

  get netns(): string | undefined { return this.#netns; }
  /** Whether the pod runs a proxy. */
  get meshed(): boolean { return this.#ctx.meshed; }
  get ip(): string { return this.#ctx.ip; }
  get dir(): string { return this.#ctx.dir; }

  /** Log file of a container (or of the proxy, {@link PROXY_CONTAINER}). */
  static logFile(dir: string, container: string): string {
    return join(dir, 'logs', `${container}.log`);
  }

  async start(): Promise<void> {
    const ctx = this.#ctx;
    mkdirSync(join(ctx.dir, 'logs'), { recursive: true });
    const net = await ctx.createNetwork(ctx.seq, ctx.ip);
    this.#netns = net.netns;
    if (ctx.meshed) {
      await proxyInit(proxyInitOptions({
        backend: ctx.backend,
        ipv6: 'off',
        proxyUid: PROXY_UID,
        // The host (probes, the control plane) talks to pods directly, as the kubelet does.
        subnetsToIgnore: [`${ctx.gateway}/32`],
      }), { host: systemHost({ netns: net.netns }) });
    }
    await hookServiceChains(net.netns, ctx.backend);
    await ctx.prepareNamespace(net.netns);
    if (this.#stopped) return;
    if (ctx.meshed) {
      const proxyDir = join(ctx.dir, 'proxy');
      mkdirSync(proxyDir, { recursive: true });
      // uid 2102 must reach its files: let it traverse (not list) the directories above.
      for (let d = ctx.dir; d !== dirname(d) && d !== '/'; d = dirname(d)) {
        const mode = statSync(d).mode & 0o777;
        if ((mode & 0o001) === 0) chmodSync(d, mode | 0o001);
      }
      chownSync(proxyDir, PROXY_UID, PROXY_UID);
      this.#proxy = new ContainerProcess({
        netns: net.netns,
        // The lean entry point: `weft proxy` without every other subcommand's modules
        // (tens of MB less per pod; docs/proxy.md), as JavaScript without Node's type
        // stripper (~35 MB less; docs/embedded-platform.md).
        argv: [process.execPath, ...PROXY_NODE_FLAGS, ctx.proxyEntry],
        env: { ...ctx.proxyEnv, HOME: proxyDir },
        uid: PROXY_UID,
        cwd: proxyDir,
        logFile: LocalPod.logFile(ctx.dir, PROXY_CONTAINER),
        onChange: () => {
          const p = this.#probed.get(PROXY_CONTAINER);
          if (p !== undefined && this.#proxy?.state.kind !== 'running') p.ready = false;
          ctx.onChange();
        },
      });
      this.#proxy.start();
      // Ready once it holds a certificate and discovery answers, as Linkerd's proxy
      // readiness probe on /ready: a pod is not an endpoint before its proxy can serve.
      this.#probed.set(PROXY_CONTAINER, { probe: PROXY_READINESS, port: PROXY_ADMIN_PORT, ready: false });
      this.#scheduleProbe(PROXY_CONTAINER, 0);
    }
    for (const c of this.pod.spec.containers) {
      const argv = containerCommand([...(c.command ?? []), ...(c.args ?? [])]);
      const env: Record<string, string> = { ...ctx.env, HOSTNAME: this.pod.metadata.name };
      for (const e of c.env ?? []) env[e.name] = e.value ?? '';
      const process_ = new ContainerProcess({
        netns: net.netns,
        argv: argv.length > 0 ? argv : ['sh', '-c', `echo "weft: container ${c.name} has no command (the image is ignored locally)"; exit 1`],
        env,
        logFile: LocalPod.logFile(ctx.dir, c.name),
        ...(c.workingDir === undefined ? {} : { cwd: c.workingDir }),
        onChange: () => {
          const p = this.#probed.get(c.name);
          if (p !== undefined && process_.state.kind !== 'running') p.ready = false;
          ctx.onChange();
        },
      });
      this.#containers.set(c.name, process_);
      const port = resolvePort(c.readinessProbe, c.ports ?? []);
      this.#probed.set(c.name, { probe: c.readinessProbe, port, ready: false });
      process_.start();
      this.#scheduleProbe(c.name, (c.readinessProbe?.initialDelaySeconds ?? 0) * 1000);
    }
  }

  #scheduleProbe(name: string, delayMs: number): void {
    const p = this.#probed.get(name);
    if (p === undefined || this.#stopped) return;
    p.timer = setTimeout(() => void this.#probeOnce(name), delayMs);
  }

  async #probeOnce(name: string): Promise<void> {
    const p = this.#probed.get(name);
    const proc = name === PROXY_CONTAINER ? this.#proxy : this.#containers.get(name);
    if (p === undefined || proc === undefined || this.#stopped || this.#netns === undefined) return;
    let ok = proc.state.kind === 'running';
    if (ok && p.probe !== undefined) ok = await runProbe(p.probe, { ip: this.#ctx.ip, port: p.port, netns: this.#netns });
    if (ok !== p.ready) {
      p.ready = ok;
      this.#ctx.onChange();
    }
    // Probe often until ready (pods come up in milliseconds here), then at the probe's period.
    const period = p.ready ? (p.probe?.periodSeconds ?? 10) * 1000 : 250;
    this.#scheduleProbe(name, Math.min(period, p.probe === undefined ? 1000 : period));
  }

  /** The pod's status as the platform writes it to the store. */
  status(): PodStatus {
    const statuses: ContainerStatus[] = this.pod.spec.containers.map((c) => {
      const proc = this.#containers.get(c.name);
      const ready = this.#probed.get(c.name)?.ready === true && proc?.state.kind === 'running';
      return containerStatus(c.name, proc, ready);
    });
    if (this.#proxy !== undefined) {
      statuses.push(containerStatus(PROXY_CONTAINER, this.#proxy, this.#probed.get(PROXY_CONTAINER)?.ready === true && this.#proxy.state.kind === 'running'));
    }
    const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
    return {
      phase: this.#netns === undefined ? 'Pending' : 'Running',
      podIP: this.#ctx.ip,
      hostIP: this.#ctx.gateway,
      startTime: this.startTime.toISOString().replace(/\.\d+Z$/, 'Z'),
      meshed: this.#ctx.meshed,
      conditions: [{ type: 'Ready', status: allReady ? 'True' : 'False', ...(allReady ? {} : { reason: 'ContainersNotReady' }) }],
      containerStatuses: statuses,
    };
  }

  /** True when every container (and the proxy) is ready. */
  ready(): boolean {
    return this.status().conditions?.[0]?.status === 'True';
  }

  /** The pid of a container's current process (tests kill it to watch the restart). */
  pidOf(container: string): number | undefined {
    return container === PROXY_CONTAINER ? this.#proxy?.pid : this.#containers.get(container)?.pid;
  }

  /** Stops every process, removes the namespace and the pod's directory. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const p of this.#probed.values()) if (p.timer !== undefined) clearTimeout(p.timer);
    const grace = (this.pod.spec.terminationGracePeriodSeconds ?? 5) * 1000;
    await Promise.all([...this.#containers.values()].map((c) => c.stop(grace)));
    await this.#proxy?.stop(grace);
    if (this.#netns !== undefined) await deletePodNetwork(this.#netns);
    rmSync(this.#ctx.dir, { recursive: true, force: true });
  }

  /** Writes a file into the pod's directory (token, credentials), readable by the proxy. */
  writeFile(relative: string, text: string): string {
    const file = join(this.#ctx.dir, relative);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, text, { mode: 0o640 });
    chownSync(`${file}.tmp`, 0, PROXY_UID);
    // rename: a reader sees the old or the new file, never half of one.
    renameSync(`${file}.tmp`, file);
    return file;
  }
}

function containerStatus(name: string, proc: ContainerProcess | undefined, ready: boolean): ContainerStatus {
  const state = proc?.state;
  const s: ContainerStatus = { name, ready, restartCount: proc?.restarts ?? 0, started: state?.kind === 'running' };
  if (state?.kind === 'running') s.state = { running: { startedAt: state.startedAt.toISOString().replace(/\.\d+Z$/, 'Z') } };
  else if (state?.kind === 'waiting') s.state = { waiting: { reason: state.reason, ...(state.message === undefined ? {} : { message: state.message }) } };
  else s.state = { waiting: { reason: 'ContainerCreating' } };
  return s;
}

/** A probe's port as a number: given, or looked up by name among the container's ports. */
function resolvePort(probe: Probe | undefined, ports: ReadonlyArray<{ containerPort: number; name?: string }>): number | undefined {
  const ref = probe?.tcpSocket?.port ?? probe?.httpGet?.port;
  if (typeof ref === 'number') return ref;
  if (typeof ref === 'string') return /^\d+$/.test(ref) ? Number(ref) : ports.find((p) => p.name === ref)?.containerPort;
  return undefined;
}
