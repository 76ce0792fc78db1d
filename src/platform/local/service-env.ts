import { namespaceOf, type ServiceView } from './service-view.ts';

/**
 * The Docker-links-style variables Kubernetes gives every container for each
 * Service of its namespace: `WEB_SERVICE_HOST`, `WEB_SERVICE_PORT`,
 * `WEB_SERVICE_PORT_HTTP`, `WEB_PORT_80_TCP_ADDR`… Fixed at container start, as in
 * Kubernetes (a Service created later is not seen until the container restarts).
 */
export function serviceEnv(services: readonly ServiceView[], podNamespace: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const svc of services) {
    if (namespaceOf(svc) !== podNamespace) continue;
    const ip = svc.spec.clusterIP;
    const ports = svc.spec.ports ?? [];
    if (ip === undefined || ip === '' || ip === 'None' || ports.length === 0) continue;
    const prefix = svc.metadata.name.toUpperCase().replaceAll('-', '_');
    const first = ports[0];
    if (first === undefined) continue;
    env[`${prefix}_SERVICE_HOST`] = ip;
    env[`${prefix}_SERVICE_PORT`] = String(first.port);
    env[`${prefix}_PORT`] = `${(first.protocol ?? 'TCP').toLowerCase()}://${ip}:${first.port}`;
    for (const p of ports) {
      const proto = p.protocol ?? 'TCP';
      if (p.name !== undefined && p.name !== '') env[`${prefix}_SERVICE_PORT_${p.name.toUpperCase().replaceAll('-', '_')}`] = String(p.port);
      const base = `${prefix}_PORT_${p.port}_${proto}`;
      env[base] = `${proto.toLowerCase()}://${ip}:${p.port}`;
      env[`${base}_PROTO`] = proto.toLowerCase();
      env[`${base}_PORT`] = String(p.port);
      env[`${base}_ADDR`] = ip;
    }
  }
  return env;
}
