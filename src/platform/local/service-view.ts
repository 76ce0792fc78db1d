/**
 * The parts of Service and Endpoints the platform reads and writes, typed here
 * structurally so this folder does not depend on every field of the api kinds.
 */
export interface ServicePortView {
  readonly name?: string;
  readonly protocol?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly appProtocol?: string;
}

/** A Service as the platform sees it. */
export interface ServiceView {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec: {
    readonly type?: string;
    readonly clusterIP?: string;
    readonly selector?: Readonly<Record<string, string>>;
    readonly ports?: readonly ServicePortView[];
  };
}

/** One ready (or not) pod address behind a Service port. */
export interface EndpointView {
  readonly ip: string;
  readonly port: number;
  readonly ready: boolean;
  readonly pod: string;
}

/** `svc`'s namespace, defaulting as the store does. */
export function namespaceOf(o: { readonly metadata: { readonly namespace?: string } }): string {
  return o.metadata.namespace ?? 'default';
}

/** True for a Service that gets a virtual IP (not headless, not ExternalName). */
export function hasClusterIp(svc: ServiceView): boolean {
  const type = svc.spec.type ?? 'ClusterIP';
  return type !== 'ExternalName' && svc.spec.clusterIP !== 'None';
}
