import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePrometheusText } from './prometheus-text.ts';

test('parsePrometheusText() reads names, escaped labels, special values and timestamps', () => {
  const text = [
    '# HELP request_total Total count of HTTP requests',
    '# TYPE request_total counter',
    'request_total{direction="inbound",authority="a\\"b\\\\c\\nd",tls="true"} 42',
    'response_latency_ms_bucket{le="+Inf"} 7 1767225600000',
    'identity_cert_expiration_timestamp_seconds 1.7672976e9',
    'odd_value NaN',
    'broken{a="x} 1',
    '',
  ].join('\n');
  const s = parsePrometheusText(text);
  assert.equal(s.length, 4);
  assert.deepEqual(s[0], { name: 'request_total', labels: { direction: 'inbound', authority: 'a"b\\c\nd', tls: 'true' }, value: 42 });
  assert.deepEqual(s[1], { name: 'response_latency_ms_bucket', labels: { le: '+Inf' }, value: 7, timeMs: 1767225600000 });
  assert.equal(s[2]!.value, 1767297600);
  assert.ok(Number.isNaN(s[3]!.value));
});
