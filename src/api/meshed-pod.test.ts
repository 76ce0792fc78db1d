import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshedPod, type MeshedPodInput } from './meshed-pod.ts';

const proxy = { name: 'weft-proxy' };
const app = { name: 'app' };

test('isMeshedPod() takes the platform\'s status.meshed first, then a proxy container, then an inject annotation', () => {
  const cases: Array<[string, MeshedPodInput, boolean]> = [
    ['status.meshed true (embedded platform)', { metadata: {}, status: { meshed: true } }, true],
    ['status.meshed false outweighs an inject annotation', { metadata: { annotations: { 'weft.dev/inject': 'enabled' } }, status: { meshed: false } }, false],
    ['status.meshed false outweighs a proxy container', { metadata: {}, spec: { containers: [app, proxy] }, status: { meshed: false } }, false],
    // Regression: viz and destination ignored this pod, check alone counted it meshed.
    ['a weft-proxy container in the spec (webhook injection, no status.meshed)', { metadata: {}, spec: { containers: [app, proxy] }, status: { podIP: '10.42.0.7' } }, true],
    ['a weft-proxy entry in containerStatuses only', { metadata: {}, spec: { containers: [app] }, status: { containerStatuses: [app, proxy] } }, true],
    // Regression: destination counted this pod meshed, viz and check did not.
    ['weft.dev/inject: enabled before any status', { metadata: { annotations: { 'weft.dev/inject': 'enabled' } }, spec: { containers: [app] } }, true],
    ['linkerd.io/inject: enabled', { metadata: { annotations: { 'linkerd.io/inject': 'enabled' } } }, true],
    ['inject: disabled', { metadata: { annotations: { 'weft.dev/inject': 'disabled' } }, spec: { containers: [app] } }, false],
    ['a plain pod', { metadata: {}, spec: { containers: [app] }, status: { podIP: '10.42.0.8' } }, false],
    ['a malformed status.meshed is no evidence', { metadata: {}, status: { meshed: 'yes' } }, false],
    ['no spec, no status', {}, false],
  ];
  for (const [name, pod, want] of cases) assert.equal(isMeshedPod(pod), want, name);
});
