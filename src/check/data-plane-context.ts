/**
 * What `weft check --proxy` looks at, on top of the mesh: each meshed pod's proxy,
 * observed once through its admin port (`/ready`, `/metrics`) and a mesh TLS
 * handshake on its inbound port.
 */
import { identityName } from '../identity/index.ts';
import { exportPrivateKey, generateKeyPair, issueCertificate, type Certificate } from '../pki/index.ts';
import { parsePrometheusText, type MetricSample } from '../viz/index.ts';
import { httpGet, type HttpReply } from './http-get.ts';
import { MeshContext, type MeshContextOptions } from './mesh-context.ts';
import { proxyTargetsFromPods, type PodLike, type ProxyTarget } from './proxy-target.ts';
import { probeMeshTls, type TlsProbe } from './tls-probe.ts';

/** Options of {@link DataPlaneContext}. */
export interface DataPlaneContextOptions extends MeshContextOptions {
  /** Proxies named on the command line (`--proxy-admin`). Default none. */
  readonly proxyTargets?: readonly ProxyTarget[];
  /** Only pods of this namespace (`-n`). Default: every namespace. */
  readonly namespace?: string;
}

/** One proxy as observed; each part is the reply or why there is none. */
export interface ProxyObservation {
  readonly target: ProxyTarget;
  readonly ready: HttpReply | { readonly error: string };
  readonly metrics: readonly MetricSample[] | { readonly error: string };
  readonly tls: TlsProbe;
  /** Why no client certificate was offered in the TLS probe (the issuer could not be read). */
  readonly bundleUnchecked?: string;
}

// The probe's own certificate: long enough to cover a slow handshake, short enough to be useless if it leaked.
const PROBE_CERT_LIFETIME_MS = 5 * 60_000;

/** {@link MeshContext} plus the data plane. */
export class DataPlaneContext extends MeshContext {
  readonly #targets: readonly ProxyTarget[];
  readonly #namespace: string | undefined;
  #observed: Promise<ProxyObservation[]> | undefined;

  constructor(options: DataPlaneContextOptions) {
    super(options);
    this.#targets = options.proxyTargets ?? [];
    this.#namespace = options.namespace;
  }

  /** The namespace filter (`-n`), if any. */
  get namespace(): string | undefined {
    return this.#namespace;
  }

  /** The proxies to check: from the command line, plus the meshed Pods the platform recorded in the store. */
  async targets(): Promise<ProxyTarget[]> {
    const fromStore = proxyTargetsFromPods(await this.#pods());
    const all = [...this.#targets, ...fromStore.filter((p) => !this.#targets.some((t) => t.name === p.name))];
    return all.filter((t) => this.#namespace === undefined || t.namespace === undefined || t.namespace === this.#namespace);
  }

  async #pods(): Promise<PodLike[]> {
    const store = await this.store();
    try {
      return (await store.list('Pod', this.#namespace === undefined ? {} : { namespace: this.#namespace })).items as unknown as PodLike[];
    } catch {
      // The store does not know Pods yet (no platform has recorded any): only --proxy-admin targets.
      return [];
    }
  }

  /** Every proxy, observed once (in parallel) and memoised for the run. */
  proxies(): Promise<ProxyObservation[]> {
    this.#observed ??= (async () => {
      const targets = await this.targets();
      const config = await this.config();
      let client: { keyPem: string; certPem: string } | undefined;
      let bundleUnchecked: string | undefined;
      try {
        client = await this.#probeCredentials();
      } catch (err) {
        bundleUnchecked = (err as Error).message;
      }
      return Promise.all(targets.map(async (target): Promise<ProxyObservation> => {
        const admin = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.adminPort}`;
        const identity = target.identity ?? (target.serviceAccount === undefined || target.namespace === undefined ? undefined
          : identityName({ namespace: target.namespace, serviceAccount: target.serviceAccount }, config));
        const [ready, metricsReply, tls] = await Promise.all([
          httpGet(admin, '/ready', this.timeoutMs).catch((err: Error) => ({ error: err.message })),
          httpGet(admin, '/metrics', this.timeoutMs).catch((err: Error) => ({ error: err.message })),
          identity === undefined
            ? { chain: [], accepted: undefined, error: `its identity is unknown: name it, as in --proxy-admin ${target.name}=HOST:PORT#IDENTITY` }
            : probeMeshTls({ host: target.host, port: target.inboundPort, identity }, { timeoutMs: this.timeoutMs, ...(client === undefined ? {} : { client }) }),
        ]);
        const metrics = 'error' in metricsReply ? metricsReply
          : metricsReply.status === 200 ? parsePrometheusText(metricsReply.body) : { error: `GET /metrics answered HTTP ${metricsReply.status}` };
        return { target, ready, metrics, tls, ...(bundleUnchecked === undefined ? {} : { bundleUnchecked }) };
      }));
    })();
    return this.#observed;
  }

  /**
   * A throwaway client certificate from the current issuer, for the TLS probe: a
   * proxy that accepts it trusts the current anchors. Its validity is real time,
   * not `--at`: the proxy judges it with its own clock. Nothing is written anywhere.
   */
  async #probeCredentials(): Promise<{ keyPem: string; certPem: string }> {
    const issuer = await this.issuer();
    const config = await this.config();
    const keys = await generateKeyPair();
    const now = Date.now();
    const name = identityName({ namespace: config.controlPlaneNamespace, serviceAccount: 'weft-check' }, config);
    const leaf: Certificate = await issueCertificate({
      subject: name,
      publicKey: keys.publicKey,
      issuer: { certificate: issuer.certificate, privateKey: issuer.privateKey },
      notBefore: new Date(now - 60_000),
      notAfter: new Date(Math.min(now + PROBE_CERT_LIFETIME_MS, issuer.certificate.notAfter.getTime())),
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['clientAuth'],
      sans: [{ type: 'dns', value: name }],
    });
    return { keyPem: await exportPrivateKey(keys.privateKey), certPem: leaf.pem + issuer.chain.map((c) => c.pem).join('') };
  }
}
