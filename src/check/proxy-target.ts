import { isMeshedPod } from '../api/index.ts';
import { UsageError } from '../errors/index.ts';

/** Where one proxy answers: its admin port (`/ready`, `/metrics`) and its inbound (mesh TLS) port. */
export interface ProxyTarget {
  /** `namespace/pod` when known, else the admin address. */
  readonly name: string;
  /** The pod's namespace, when known (`-n` filters on it). */
  readonly namespace: string | undefined;
  readonly host: string;
  readonly adminPort: number;
  readonly inboundPort: number;
  /** The identity the proxy serves (its certificate's DNS name), sent as SNI: proxies only speak mesh TLS to their own name. */
  readonly identity?: string;
  /** The pod's service account, from which the context derives {@link identity} when it is not given. */
  readonly serviceAccount?: string;
}

/** The proxy's default ports (ARCHITECTURE.md): admin 4191, inbound 4143. */
export const PROXY_ADMIN_PORT = 4191;
export const PROXY_INBOUND_PORT = 4143;

function port(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`Use a port between 1 and 65535 in ${flag}: got "${text}"`);
  return n;
}

/**
 * Reads one `--proxy-admin` value: `[NS/POD=]HOST:ADMIN_PORT[,INBOUND_PORT][#IDENTITY]`
 * (`emojivoto/web-1=10.42.0.7:4191#web.emojivoto.serviceaccount.identity.weft.cluster.local`,
 * `127.0.0.1:41910,41430`, `[::1]:4191`). The inbound port defaults to 4143; without
 * an identity the certificate and bundle checks cannot reach the proxy's mesh TLS.
 */
export function parseProxyTarget(text: string): ProxyTarget {
  const flag = `--proxy-admin "${text}"`;
  const hash = text.indexOf('#');
  const identity = hash >= 0 ? text.slice(hash + 1) : undefined;
  const body = hash >= 0 ? text.slice(0, hash) : text;
  const eq = body.indexOf('=');
  const name = eq >= 0 ? body.slice(0, eq) : undefined;
  const rest = eq >= 0 ? body.slice(eq + 1) : body;
  const [addr = '', inbound] = rest.split(',');
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(addr);
  if (m === null || identity === '') {
    throw new UsageError(`Use [NS/POD=]HOST:PORT[,INBOUND_PORT][#IDENTITY] for ${flag}, such as "emojivoto/web-1=10.42.0.7:4191"`);
  }
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  const slash = name?.indexOf('/') ?? -1;
  return {
    name: name ?? addr,
    namespace: name !== undefined && slash > 0 ? name.slice(0, slash) : undefined,
    host,
    adminPort: port(m[2] as string, flag),
    inboundPort: inbound === undefined ? PROXY_INBOUND_PORT : port(inbound, flag),
    ...(identity === undefined ? {} : { identity }),
  };
}

/** What {@link proxyTargetsFromPods} reads of a Pod record (the embedded platform's, or Kubernetes'). */
export interface PodLike {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: { readonly serviceAccountName?: string; readonly containers?: ReadonlyArray<{ readonly name: string }> };
  readonly status?: { readonly podIP?: string; readonly meshed?: boolean; readonly containerStatuses?: ReadonlyArray<{ readonly name: string }> };
}

/** Annotation a platform may set to say where a pod's proxy admin listens (`HOST:PORT[,INBOUND_PORT]`). */
export const PROXY_ADMIN_ANNOTATION = 'weft.dev/proxy-admin';

/**
 * The proxies of the meshed pods among `pods` (meshed as the api's {@link isMeshedPod}
 * says, the definition discovery and viz use too): at the {@link PROXY_ADMIN_ANNOTATION}'s
 * address when a platform set one, else at the pod IP on the default ports (a pod
 * without an IP yet has no proxy to reach). Their identity comes from
 * `spec.serviceAccountName` (default `default`).
 */
export function proxyTargetsFromPods(pods: readonly PodLike[]): ProxyTarget[] {
  const out: ProxyTarget[] = [];
  for (const pod of pods) {
    if (!isMeshedPod(pod)) continue;
    const ns = pod.metadata.namespace ?? 'default';
    const name = `${ns}/${pod.metadata.name}`;
    const annotated = pod.metadata.annotations?.[PROXY_ADMIN_ANNOTATION];
    const serviceAccount = pod.spec?.serviceAccountName ?? 'default';
    if (annotated !== undefined) {
      out.push({ serviceAccount, ...parseProxyTarget(`${name}=${annotated}`), namespace: ns });
    } else if (pod.status?.podIP !== undefined) {
      out.push({ name, namespace: ns, host: pod.status.podIP, adminPort: PROXY_ADMIN_PORT, inboundPort: PROXY_INBOUND_PORT, serviceAccount });
    }
  }
  return out;
}
