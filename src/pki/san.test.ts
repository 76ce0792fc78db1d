import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostMatchesSans, parseSan, type San } from './san.ts';

test('parseSan() recognises each SAN by its form, as step does for --san', () => {
  const cases: Array<[string, San]> = [
    ['web.emojivoto.svc', { type: 'dns', value: 'web.emojivoto.svc' }],
    ['*.emojivoto.svc', { type: 'dns', value: '*.emojivoto.svc' }],
    ['localhost', { type: 'dns', value: 'localhost' }],
    ['10.0.0.1', { type: 'ip', value: '10.0.0.1' }],
    ['::1', { type: 'ip', value: '::1' }],
    ['2001:DB8:0:0:0:0:0:1', { type: 'ip', value: '2001:db8::1' }],
    ['spiffe://cluster.local/ns/emojivoto/sa/web', { type: 'uri', value: 'spiffe://cluster.local/ns/emojivoto/sa/web' }],
    ['https://example.com/x', { type: 'uri', value: 'https://example.com/x' }],
    ['ops@example.com', { type: 'email', value: 'ops@example.com' }],
  ];
  for (const [text, san] of cases) assert.deepEqual(parseSan(text), san, text);
});

test('parseSan() refuses text that is no DNS name, IP, URI or email, naming it', () => {
  for (const text of ['', 'two words', 'bad_end-', 'a..b', '-lead.example']) {
    assert.throws(() => parseSan(text), (err: Error & { code?: string }) => err.code === 'WEFT_ERR_PKI_BAD_REQUEST', text);
  }
});

test('hostMatchesSans() matches names case-insensitively, wildcards one label deep, and IPs only against IP SANs', () => {
  const sans: San[] = [
    { type: 'dns', value: '*.emojivoto.svc' },
    { type: 'dns', value: 'Web.Example.com' },
    { type: 'ip', value: '10.0.0.1' },
    { type: 'ip', value: '::1' },
    { type: 'uri', value: 'spiffe://cluster.local/ns/x/sa/y' },
  ];
  const cases: Array<[string, boolean]> = [
    ['web.emojivoto.svc', true],
    ['WEB.emojivoto.svc.', true],
    ['a.web.emojivoto.svc', false],
    ['emojivoto.svc', false],
    ['web.example.com', true],
    ['example.com', false],
    ['10.0.0.1', true],
    ['10.0.0.2', false],
    ['0:0::1', true],
    ['spiffe://cluster.local/ns/x/sa/y', false],
  ];
  for (const [host, ok] of cases) assert.equal(hostMatchesSans(host, sans), ok, host);
});
