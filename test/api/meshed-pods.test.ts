/**
 * One definition of a meshed pod: discovery (identity or plain text), viz (whose
 * proxy to scrape and tap, the MESHED counts) and `weft check --proxy` (whose proxy
 * to check) must agree pod by pod with the api's isMeshedPod(). They had three
 * definitions: status.meshed only (viz), status.meshed else an inject annotation
 * (destination), a weft-proxy container (check).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshedPod, type Pod, type Resource } from '../../src/api/index.ts';
import { proxyTargetsFromPods } from '../../src/check/index.ts';
import { podFacts } from '../../src/destination/index.ts';
import { scrapeTargets, statRows, type Inventory } from '../../src/viz/index.ts';

function pod(name: string, ip: string, extra: { annotations?: Record<string, string>; proxyInSpec?: boolean; proxyStatus?: boolean; meshed?: boolean }): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: { app: 'web' }, ...(extra.annotations === undefined ? {} : { annotations: extra.annotations }) },
    spec: { containers: [{ name: 'app', command: ['true'] }, ...(extra.proxyInSpec === true ? [{ name: 'weft-proxy', command: ['weft'] }] : [])] },
    status: {
      podIP: ip,
      ...(extra.meshed === undefined ? {} : { meshed: extra.meshed }),
      ...(extra.proxyStatus === true ? { containerStatuses: [{ name: 'weft-proxy', ready: true, restartCount: 0 }] } : {}),
    },
  };
}

const PODS: Array<[Pod, boolean]> = [
  [pod('platform-meshed', '10.9.0.2', { meshed: true, proxyStatus: true }), true],
  [pod('platform-plain', '10.9.0.3', { meshed: false }), false],
  [pod('webhook-injected', '10.9.0.4', { proxyInSpec: true }), true],
  [pod('annotated', '10.9.0.5', { annotations: { 'linkerd.io/inject': 'enabled' } }), true],
  [pod('proxy-stopped', '10.9.0.6', { proxyInSpec: true, meshed: false, annotations: { 'weft.dev/inject': 'enabled' } }), false],
  [pod('plain', '10.9.0.7', {}), false],
];

test('discovery, viz and weft check --proxy count the same pods as meshed, the ones isMeshedPod() names', () => {
  const pods = PODS.map(([p]) => p);
  const expected = PODS.filter(([, m]) => m).map(([p]) => `shop/${p.metadata.name}`).sort();
  assert.deepEqual(pods.filter(isMeshedPod).map((p) => `shop/${p.metadata.name}`).sort(), expected);
  assert.deepEqual(pods.filter((p) => podFacts(p as unknown as Resource).meshed).map((p) => `shop/${p.metadata.name}`).sort(), expected, 'destination');
  assert.deepEqual(proxyTargetsFromPods(pods).map((t) => t.name).sort(), expected, 'check');
  const inventory: Inventory = {
    pods, services: [], identity: { trustDomain: 'cluster.local', controlPlaneNamespace: 'weft' },
    deployments: [{
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', command: ['true'] }] } } },
    }],
  };
  assert.deepEqual(scrapeTargets(inventory).map((t) => t.key).sort(), expected, 'viz scrape targets');
  const [row] = statRows({ inventory, histories: [], nowMs: 0 }, { kind: 'deployment' });
  assert.deepEqual([row?.name, row?.meshedPods, row?.totalPods], ['web', expected.length, pods.length], 'viz stat MESHED counts');
});
