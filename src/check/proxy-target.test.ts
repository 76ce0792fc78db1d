import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyTarget, proxyTargetsFromPods } from './proxy-target.ts';
import { parsePrometheusText } from '../viz/index.ts';
import { metricValue } from './metric-value.ts';

test('parseProxyTarget() reads name, host, ports and identity', () => {
  assert.deepEqual(parseProxyTarget('emojivoto/web-1=10.42.0.7:4191,4143#web.emojivoto.serviceaccount.identity.weft.cluster.local'), {
    name: 'emojivoto/web-1', namespace: 'emojivoto', host: '10.42.0.7', adminPort: 4191, inboundPort: 4143,
    identity: 'web.emojivoto.serviceaccount.identity.weft.cluster.local',
  });
  assert.deepEqual(parseProxyTarget('[::1]:4191'), { name: '[::1]:4191', namespace: undefined, host: '::1', adminPort: 4191, inboundPort: 4143 });
  assert.throws(() => parseProxyTarget('web:http'), { code: 'WEFT_ERR_USAGE' });
});

test('proxyTargetsFromPods() keeps meshed pods and derives their service account', () => {
  const targets = proxyTargetsFromPods([
    { metadata: { name: 'web-1', namespace: 'emojivoto' }, spec: { serviceAccountName: 'web', containers: [{ name: 'web' }, { name: 'weft-proxy' }] }, status: { podIP: '10.42.0.7' } },
    { metadata: { name: 'injected', namespace: 'emojivoto' }, spec: { containers: [{ name: 'app' }] }, status: { podIP: '10.42.0.9', containerStatuses: [{ name: 'app' }, { name: 'weft-proxy' }] } },
    { metadata: { name: 'plain', namespace: 'emojivoto' }, spec: { containers: [{ name: 'app' }] }, status: { podIP: '10.42.0.8' } },
    // Regression: check alone ignored the platform's word; viz and discovery read it.
    { metadata: { name: 'stopped-proxy', namespace: 'emojivoto' }, spec: { containers: [{ name: 'app' }, { name: 'weft-proxy' }] }, status: { podIP: '10.42.0.10', meshed: false } },
    { metadata: { name: 'annotated', namespace: 'emojivoto', annotations: { 'weft.dev/inject': 'enabled' } }, spec: { containers: [{ name: 'app' }] }, status: { podIP: '10.42.0.11' } },
    { metadata: { name: 'no-ip-yet', namespace: 'emojivoto' }, spec: { containers: [{ name: 'app' }] }, status: { meshed: true } },
  ]);
  assert.deepEqual(targets, [
    { name: 'emojivoto/web-1', namespace: 'emojivoto', host: '10.42.0.7', adminPort: 4191, inboundPort: 4143, serviceAccount: 'web' },
    { name: 'emojivoto/injected', namespace: 'emojivoto', host: '10.42.0.9', adminPort: 4191, inboundPort: 4143, serviceAccount: 'default' },
    { name: 'emojivoto/annotated', namespace: 'emojivoto', host: '10.42.0.11', adminPort: 4191, inboundPort: 4143, serviceAccount: 'default' },
  ]);
});

test('metricValue() reads a value from parsed /metrics text', () => {
  const samples = parsePrometheusText('# HELP x y\n# TYPE x gauge\nidentity_cert_expiration_timestamp_seconds 1764633600\nrequest_total{direction="inbound",authority="a\\"b"} 3\n');
  assert.equal(metricValue(samples, 'identity_cert_expiration_timestamp_seconds'), 1764633600);
  assert.deepEqual(samples[1], { name: 'request_total', labels: { direction: 'inbound', authority: 'a"b' }, value: 3 });
});
