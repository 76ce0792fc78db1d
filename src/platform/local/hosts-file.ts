import { namespaceOf, type ServiceView } from './service-view.ts';

/** Options of {@link hostsFile}. */
export interface HostsFileOptions {
  readonly podName: string;
  readonly podIp: string;
  /** Default `cluster.local`. */
  readonly clusterDomain?: string;
}

/**
 * A pod's `/etc/hosts`: localhost, the pod's own name, and every Service with a
 * virtual IP under the three names a pod may use — `svc` (only meaningful in the
 * same namespace, so only for those), `svc.ns` and `svc.ns.svc.cluster.local`.
 * Stands in for cluster DNS: the files are rewritten in place when Services change.
 */
export function hostsFile(services: readonly ServiceView[], podNamespace: string, options: HostsFileOptions): string {
  const domain = options.clusterDomain ?? 'cluster.local';
  const lines = [
    '# Written by weft: every Service in the mesh. Do not edit; it is rewritten when Services change.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${options.podIp}\t${options.podName}`,
  ];
  const sorted = [...services].sort((a, b) => `${namespaceOf(a)}/${a.metadata.name}`.localeCompare(`${namespaceOf(b)}/${b.metadata.name}`));
  for (const svc of sorted) {
    const ip = svc.spec.clusterIP;
    if (ip === undefined || ip === '' || ip === 'None') continue;
    const ns = namespaceOf(svc);
    const name = svc.metadata.name;
    const names = [`${name}.${ns}.svc.${domain}`, `${name}.${ns}.svc`, `${name}.${ns}`];
    if (ns === podNamespace) names.push(name);
    lines.push(`${ip}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
