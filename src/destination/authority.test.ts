import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuthority, type Target } from './authority.ts';

const CASES: Array<[string, { contextNamespace?: string; clusterDomain?: string }, Target]> = [
  ['web-svc.emojivoto.svc.cluster.local:80', {}, { kind: 'service', name: 'web-svc', namespace: 'emojivoto', port: 80 }],
  ['Web-Svc.Emojivoto.svc.cluster.local.:80', {}, { kind: 'service', name: 'web-svc', namespace: 'emojivoto', port: 80 }],
  ['web-svc.emojivoto.svc:8080', {}, { kind: 'service', name: 'web-svc', namespace: 'emojivoto', port: 8080 }],
  ['web-svc.emojivoto:80', {}, { kind: 'service', name: 'web-svc', namespace: 'emojivoto', port: 80 }],
  ['web-svc:80', { contextNamespace: 'emojivoto' }, { kind: 'service', name: 'web-svc', namespace: 'emojivoto', port: 80 }],
  ['web-svc:80', {}, { kind: 'external', host: 'web-svc', port: 80 }],
  ['web.ns.svc.example.org:80', { clusterDomain: 'example.org' }, { kind: 'service', name: 'web', namespace: 'ns', port: 80 }],
  ['web.ns.svc.cluster.local:80', { clusterDomain: 'example.org' }, { kind: 'external', host: 'web.ns.svc.cluster.local', port: 80 }],
  ['api.example.com:443', {}, { kind: 'external', host: 'api.example.com', port: 443 }],
  ['a.b.c.svc.cluster.local:80', {}, { kind: 'external', host: 'a.b.c.svc.cluster.local', port: 80 }],
  ['10.96.0.10:80', {}, { kind: 'ip', ip: '10.96.0.10', port: 80 }],
  ['[fd00::1]:443', {}, { kind: 'ip', ip: 'fd00::1', port: 443 }],
];

test('parseAuthority() reads service names in every form and IPs', () => {
  for (const [text, opts, want] of CASES) assert.deepEqual(parseAuthority(text, opts), want, text);
});

test('parseAuthority() refuses what is not host:port, saying what to send', () => {
  for (const [text, message] of [
    ['web-svc.emojivoto', /has no port/],
    ['fd00::1', /IPv6 address in brackets/],
    ['web:0', /port from 1 to 65535/],
    ['web:70000', /port from 1 to 65535/],
    ['web:http', /port from 1 to 65535/],
    ['[10.0.0.1]:80', /IPv6/],
    ['we_b.ns:80', /valid DNS name/],
    [':80', /has no port/],
  ] as const) {
    const t = parseAuthority(text);
    assert.equal(t.kind, 'invalid', text);
    assert.match((t as { message: string }).message, message, text);
  }
});
