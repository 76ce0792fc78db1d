/**
 * A real control plane for proxy tests: `startControlPlane` (certificate
 * controller, identity service, destination service) over an embedded store in a
 * temporary directory, on 127.0.0.1 with ephemeral ports; workloads get real
 * service-account tokens, real identity clients and real destination clients.
 * Everything is torn down by `t.after`, even when the test fails.
 */
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../../src/control-plane/index.ts';
import { startDestinationClient } from '../../src/destination/index.ts';
import {
  createServiceAccountToken, identityName, startIdentityClient, TRUST_ROOTS_CONFIG_MAP, TRUST_ROOTS_KEY,
  type IdentityClient, type IdentityConfig, type RefreshPolicy,
} from '../../src/identity/index.ts';
import { identityCredentials, Logger, PROXY_DEFAULTS, startProxy, type ProxyConfig, type RunningProxy } from '../../src/proxy/index.ts';
import { openStore, type ResourceStore } from '../../src/store/index.ts';

/** Namespace of every test workload. */
export const NS = 'shop';

/** A control plane and the files workloads need. */
export type ControlPlaneFixture = {
  store: ResourceStore;
  cp: ControlPlane;
  dir: string;
  anchorsFile: string;
  /** The identity of ServiceAccount `sa` in {@link NS}. */
  id(sa: string): string;
  /** Starts a proxy for ServiceAccount `sa` with its own identity client and destination client. */
  proxy(sa: string, o?: { config?: Partial<ProxyConfig>; policy?: Partial<RefreshPolicy>; name?: string }): Promise<{ proxy: RunningProxy; identity: IdentityClient }>;
  /** Applies a meshed Pod `name` (ServiceAccount `sa`) at `ip` whose proxy's inbound port is `inboundPort`. */
  pod(name: string, sa: string, ip: string, inboundPort?: number): Promise<void>;
  /** Applies Service `name` with `ports` ({name, port, targetPort, appProtocol?}). */
  service(name: string, ports: Array<{ name: string; port: number; targetPort: number; appProtocol?: string }>, clusterIP?: string, annotations?: Record<string, string>): Promise<void>;
  /** Writes the Endpoints of `name`: one subset per port, `pods` as ready addresses. */
  endpoints(name: string, pods: Array<{ pod: string; ip: string }>, ports: Array<{ name: string; port: number }>): Promise<void>;
};

/** Starts the control plane (with `config` applied at bootstrap). */
export async function controlPlane(t: TestContext, config: Partial<IdentityConfig> = {}): Promise<ControlPlaneFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-proxy-cp-'));
  const store = openStore({ stateDir: dir });
  const cp = await startControlPlane(store, { identityAddr: '127.0.0.1:0', destinationAddr: '127.0.0.1:0', adminAddr: '127.0.0.1:0', config });
  t.after(async () => {
    await cp.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const roots = await store.get('ConfigMap', TRUST_ROOTS_CONFIG_MAP, 'weft');
  const anchorsFile = join(dir, 'anchors.pem');
  writeFileSync(anchorsFile, String(roots?.data?.[TRUST_ROOTS_KEY] ?? ''));
  const log = new Logger(process.env['WEFT_TEST_LOG'] === '1' ? 'debug' : 'off');
  const id = (sa: string): string => identityName({ namespace: NS, serviceAccount: sa }, { controlPlaneNamespace: 'weft', trustDomain: 'cluster.local' });
  const local = { host: '127.0.0.1', port: 0 };
  return {
    store, cp, dir, anchorsFile, id,
    async proxy(sa, o = {}) {
      if (await store.get('ServiceAccount', sa, NS) === undefined) {
        await store.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: NS } });
      }
      const tokenFile = join(dir, `${o.name ?? sa}.token`);
      writeFileSync(tokenFile, await createServiceAccountToken(store, { namespace: NS, serviceAccount: sa, ttlMs: 3_600_000, now: Date.now() }));
      const identity = await startIdentityClient({
        addr: cp.identity.address, identity: id(sa), tokenFile, trustAnchorsFile: anchorsFile,
        ...(o.policy === undefined ? {} : { policy: o.policy }),
      });
      t.after(() => identity.close());
      await identity.whenReady();
      const destination = startDestinationClient({
        addr: cp.destination.address,
        tls: () => identity.current(),
        contextToken: JSON.stringify({ ns: NS }),
        backoffBaseMs: 100,
        backoffMaxMs: 1000,
      });
      const proxy = await startProxy({
        ...PROXY_DEFAULTS, inbound: local, outbound: local, admin: local,
        credentials: identityCredentials(identity),
        destination,
        ...o.config,
      }, { logger: log.child({ proxy: o.name ?? sa }) });
      t.after(() => proxy.stop({ graceMs: 0 }));
      return { proxy, identity };
    },
    async pod(name, sa, ip, inboundPort) {
      await store.apply({
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          name, namespace: NS,
          annotations: { 'weft.dev/inject': 'enabled', ...(inboundPort === undefined ? {} : { 'weft.dev/proxy-inbound-port': String(inboundPort) }) },
        },
        spec: { serviceAccountName: sa, containers: [{ name: 'app', command: ['true'] }] },
      });
      await store.updateStatus({ kind: 'Pod', metadata: { name, namespace: NS }, status: { phase: 'Running', podIP: ip } });
    },
    async service(name, ports, clusterIP, annotations) {
      await store.apply({
        apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS, ...(annotations === undefined ? {} : { annotations }) },
        spec: {
          ...(clusterIP === undefined ? {} : { clusterIP }),
          selector: { app: name },
          ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }) })),
        },
      });
    },
    async endpoints(name, pods, ports) {
      await store.apply({
        apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: NS },
        subsets: pods.length === 0 ? [] : [{
          addresses: pods.map((p) => ({ ip: p.ip, targetRef: { kind: 'Pod', name: p.pod, namespace: NS } })),
          ports,
        }],
      });
    },
  };
}
