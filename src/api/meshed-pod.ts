/**
 * What makes a Pod meshed (its traffic goes through a weft proxy), in one place:
 * discovery decides from it whether to hand out an identity (mTLS) or plain text,
 * viz whose proxy to scrape and tap, `weft check --proxy` whose proxy to check, and
 * `weft get pods` its MESHED column. Were they to disagree, a pod could be sent
 * plain text while its proxy expects TLS, or be checked but never scraped.
 */

/** Name of the injected proxy container (Linkerd's is `linkerd-proxy`). */
export const PROXY_CONTAINER = 'weft-proxy';
/** Annotations that ask for injection; `enabled` marks a pod meshed when nothing more certain says. Either name works. */
export const INJECT_ANNOTATIONS = ['weft.dev/inject', 'linkerd.io/inject'] as const;

/** The parts of a Pod {@link isMeshedPod} reads; a Pod, a raw Resource and narrower views all fit. */
export interface MeshedPodInput {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> | undefined };
  readonly spec?: unknown;
  readonly status?: unknown;
}

function hasProxyContainer(list: unknown): boolean {
  return Array.isArray(list) && list.some((c: unknown) => typeof c === 'object' && c !== null && (c as { name?: unknown }).name === PROXY_CONTAINER);
}

/**
 * Whether `pod` is meshed, most certain evidence first:
 *
 *   1. `status.meshed`, when a platform wrote it: it started (or did not start) the proxy;
 *   2. a {@link PROXY_CONTAINER} container in the spec (injected by a webhook, as on
 *      Kubernetes, where `status.meshed` does not exist) or in `status.containerStatuses`;
 *   3. an inject annotation set to `enabled` on the Pod itself (the embedded platform
 *      sets it before the pod's first status, so discovery knows from the start).
 *
 * Pure.
 */
export function isMeshedPod(pod: MeshedPodInput): boolean {
  const status = pod.status as { meshed?: unknown; containerStatuses?: unknown } | undefined;
  if (typeof status?.meshed === 'boolean') return status.meshed;
  if (hasProxyContainer((pod.spec as { containers?: unknown } | undefined)?.containers) || hasProxyContainer(status?.containerStatuses)) return true;
  const annotations = pod.metadata?.annotations;
  return INJECT_ANNOTATIONS.some((name) => annotations?.[name] === 'enabled');
}
