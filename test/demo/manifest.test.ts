import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { validateResource, type Deployment, type Service } from '../../src/api/index.ts';
import { DEMO_APPS, demoConfigFromEnv } from '../../src/demo/index.ts';

const FILE = fileURLToPath(new URL('../../examples/emojivoto.yaml', import.meta.url));

type Doc = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> } };

function documents(): Doc[] {
  // YAML 1.1, as kubectl reads it: "0.1" and "8080" must stay strings where strings are meant.
  return parseAllDocuments(readFileSync(FILE, 'utf8'), { version: '1.1' }).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as Doc;
  });
}

const byKind = (docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind);

test('examples/emojivoto.yaml passes weft\'s resource validation, document by document', () => {
  for (const doc of documents()) {
    const v = validateResource(doc);
    assert.ok(v.ok, `${doc.kind} ${doc.metadata.name}: ${JSON.stringify(v.ok ? [] : v.problems)}`);
  }
});

test('the demo is one injected namespace with a ServiceAccount and Deployment per app, and a Service for each server', () => {
  const docs = documents();
  const ns = byKind(docs, 'Namespace');
  assert.equal(ns.length, 1);
  assert.equal(ns[0]?.metadata.name, 'emojivoto');
  assert.equal(ns[0]?.metadata.annotations?.['weft.dev/inject'], 'enabled');
  for (const d of docs.filter((x) => x.kind !== 'Namespace')) assert.equal(d.metadata.namespace, 'emojivoto', `${d.kind} ${d.metadata.name}`);
  assert.deepEqual(byKind(docs, 'ServiceAccount').map((d) => d.metadata.name).sort(), [...DEMO_APPS].sort());
  assert.deepEqual(byKind(docs, 'Deployment').map((d) => d.metadata.name).sort(), [...DEMO_APPS].sort());
  assert.deepEqual(byKind(docs, 'Service').map((d) => d.metadata.name).sort(), ['emoji-svc', 'voting-svc', 'web-svc']);
});

test('each container runs `weft demo-app NAME` with its own ServiceAccount and an environment the app accepts', () => {
  const docs = documents();
  for (const d of byKind(docs, 'Deployment') as unknown as Deployment[]) {
    const name = d.metadata.name;
    const pod = d.spec.template.spec;
    assert.equal(pod.serviceAccountName, name);
    assert.equal(pod.containers.length, 1);
    const c = pod.containers[0];
    assert.ok(c !== undefined);
    assert.equal(c.image, 'weft/demo:0.1');
    assert.deepEqual([...(c.command ?? []), ...(c.args ?? [])], ['weft', 'demo-app', name]);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    const parsed = demoConfigFromEnv(name, env);
    assert.ok(parsed.ok, `${name}: ${parsed.ok ? '' : parsed.problem}`);
    const config = parsed.config;
    if (config.app === 'vote-bot') {
      assert.equal(c.ports, undefined, 'vote-bot only calls out');
      assert.equal(c.readinessProbe, undefined, 'vote-bot is ready once it runs');
      continue;
    }
    assert.deepEqual(c.ports?.map((p) => p.containerPort), [config.port]);
    const probe = c.readinessProbe;
    assert.ok(probe !== undefined, `${name} has a readinessProbe`);
    if (config.app === 'web') assert.deepEqual(probe.httpGet, { path: '/ready', port: config.port });
    else assert.deepEqual(probe.tcpSocket, { port: config.port });
  }
});

test('every Service selects one Deployment\'s pods on its port, and every peer address names a Service port', () => {
  const docs = documents();
  const deployments = byKind(docs, 'Deployment') as unknown as Deployment[];
  const services = byKind(docs, 'Service') as unknown as Service[];
  const dnsPorts = new Set<string>();
  for (const s of services) {
    const selector = s.spec.selector ?? {};
    const matched = deployments.filter((d) => Object.entries(selector).every(([k, v]) => d.spec.template.metadata?.labels?.[k] === v));
    assert.equal(matched.length, 1, `${s.metadata.name} selects exactly one Deployment`);
    const ports = matched[0]?.spec.template.spec.containers[0]?.ports?.map((p) => p.containerPort) ?? [];
    for (const p of s.spec.ports ?? []) {
      assert.ok(ports.includes(Number(p.targetPort ?? p.port)), `${s.metadata.name}:${p.port} → a container port`);
      dnsPorts.add(`${s.metadata.name}.emojivoto:${p.port}`);
    }
  }
  const peers = deployments.flatMap((d) => d.spec.template.spec.containers.flatMap((c) => c.env ?? []))
    .filter((e) => e.name.endsWith('_HOST') && e.name !== 'BIND_HOST');
  assert.deepEqual(peers.map((e) => e.name).sort(), ['EMOJISVC_HOST', 'VOTINGSVC_HOST', 'WEB_HOST']);
  for (const e of peers) assert.ok(dnsPorts.has(e.value ?? ''), `${e.name}=${e.value ?? ''} names a Service port`);
});
