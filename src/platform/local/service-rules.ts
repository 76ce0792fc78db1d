import type { EndpointView } from './service-view.ts';

/** nat chain holding the ClusterIP → endpoint DNAT rules in every pod namespace. */
export const SERVICES_CHAIN = 'WEFT_SERVICES';
/** filter chain that keeps a pod's traffic inside the mesh's own ranges. */
export const EGRESS_CHAIN = 'WEFT_EGRESS';

/** One Service port's virtual address and the endpoints behind it. */
export interface ServiceRoute {
  /** `ns/name:port`, for the rule comment. */
  readonly label: string;
  readonly clusterIp: string;
  readonly port: number;
  /** Ready endpoints only. */
  readonly endpoints: readonly EndpointView[];
}

/**
 * The `iptables-restore --noflush` input that replaces both chains at once (the
 * `:CHAIN` lines flush them), so a pod never sees half a rule set.
 *
 * Spreading: rule i of n matches with probability 1/(n-i) (`statistic random`),
 * the last always — an even split, as kube-proxy does. A ClusterIP without ready
 * endpoints is not translated, and the egress chain rejects it: the packet never
 * leaves the namespace. Egress allows only loopback and the pod range (plus what
 * DNAT has already turned into a pod address), so nothing outside the machine is
 * ever addressed from a pod.
 */
export function serviceRulesRestore(routes: readonly ServiceRoute[], options: { podCidr: string }): string {
  const lines = ['*nat', `:${SERVICES_CHAIN} - [0:0]`];
  for (const r of routes) {
    const n = r.endpoints.length;
    r.endpoints.forEach((e, i) => {
      const match = ['-A', SERVICES_CHAIN, '-d', `${r.clusterIp}/32`, '-p', 'tcp', '--dport', String(r.port)];
      const comment = ['-m', 'comment', '--comment', quote(r.label)];
      const spread = i < n - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', (1 / (n - i)).toFixed(5)] : [];
      lines.push([...match, ...comment, ...spread, '-j', 'DNAT', '--to-destination', `${e.ip}:${e.port}`].join(' '));
    });
  }
  lines.push('COMMIT', '*filter', `:${EGRESS_CHAIN} - [0:0]`,
    `-A ${EGRESS_CHAIN} -o lo -j RETURN`,
    // proxy-init's REDIRECT has already turned an outbound connection into one to
    // 127.0.0.1:4140, but the hook still names eth0 as its interface: match the address.
    `-A ${EGRESS_CHAIN} -d 127.0.0.0/8 -j RETURN`,
    `-A ${EGRESS_CHAIN} -d ${options.podCidr} -j RETURN`,
    `-A ${EGRESS_CHAIN} -p tcp -j REJECT --reject-with tcp-reset`,
    `-A ${EGRESS_CHAIN} -j REJECT`,
    'COMMIT', '');
  return lines.join('\n');
}

function quote(s: string): string {
  return `"${s.replaceAll('"', '')}"`;
}
