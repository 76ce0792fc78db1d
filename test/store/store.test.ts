import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERR_INVALID, type Certificate } from '../../src/api/index.ts';
import { ERR_CONFLICT, ERR_GONE, ERR_NOT_FOUND, openStore, recordEvent, type WatchEvent } from '../../src/store/index.ts';
import { configMap, tempStateDir } from './helpers.ts';

const certificate = (over: Partial<Certificate['spec']> = {}) => ({
  apiVersion: 'cert-manager.io/v1' as const,
  kind: 'Certificate' as const,
  metadata: { name: 'web', namespace: 'default' },
  spec: { secretName: 'web-tls', issuerRef: { name: 'ca' }, dnsNames: ['web.local'], ...over },
});

test('a new store has the default namespace and nothing else', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  const { items } = await store.list('Namespace');
  assert.deepEqual(items.map((n) => n.metadata.name), ['default']);
  assert.equal(items[0]?.status?.phase, 'Active');
});

test('apply creates, configures and leaves unchanged, stamping metadata from the injected clock', async (t) => {
  let now = new Date('2030-01-02T03:04:05.678Z');
  const store = openStore({ stateDir: tempStateDir(t), clock: () => now });
  t.after(() => store.close());
  const created = await store.apply(configMap('a', { k: 'v' }));
  assert.equal(created.outcome, 'created');
  assert.equal(created.object.metadata.creationTimestamp, '2030-01-02T03:04:05Z');
  assert.equal(created.object.metadata.generation, 1);
  assert.match(created.object.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
  const again = await store.apply(configMap('a', { k: 'v' }));
  assert.equal(again.outcome, 'unchanged');
  assert.equal(again.object.metadata.resourceVersion, created.object.metadata.resourceVersion);
  now = new Date('2030-02-01T00:00:00Z');
  const changed = await store.apply(configMap('a', { k: 'w' }));
  assert.equal(changed.outcome, 'configured');
  assert.equal(changed.object.metadata.generation, 2);
  assert.equal(changed.object.metadata.uid, created.object.metadata.uid);
  assert.equal(changed.object.metadata.creationTimestamp, '2030-01-02T03:04:05Z');
  assert.ok(Number(changed.object.metadata.resourceVersion) > Number(created.object.metadata.resourceVersion));
  assert.deepEqual((await store.get('ConfigMap', 'a'))?.data, { k: 'w' });
});

test('a label change bumps resourceVersion but not generation', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  const a = await store.apply(configMap('a', { k: 'v' }));
  const b = await store.apply(configMap('a', { k: 'v' }, { labels: { app: 'x' } }));
  assert.equal(b.outcome, 'configured');
  assert.equal(b.object.metadata.generation, a.object.metadata.generation);
  assert.notEqual(b.object.metadata.resourceVersion, a.object.metadata.resourceVersion);
});

test('apply with a stale resourceVersion is a conflict and changes nothing', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  const first = (await store.apply(configMap('a', { k: '1' }))).object;
  await store.apply({ ...first, data: { k: '2' } });
  await assert.rejects(store.apply({ ...first, data: { k: '3' } }), { code: ERR_CONFLICT });
  assert.deepEqual((await store.get('ConfigMap', 'a'))?.data, { k: '2' });
  await store.delete('ConfigMap', 'a');
  await assert.rejects(store.apply({ ...first, data: { k: '4' } }), { code: ERR_CONFLICT });
});

test('an invalid object is refused with every problem and nothing is stored', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  const rv = await store.resourceVersion();
  await assert.rejects(store.apply(certificate({ duration: '48h', renewBefore: '49h', secretName: '' })), (err: Error & { code: string; problems: unknown }) => {
    assert.equal(err.code, ERR_INVALID);
    assert.deepEqual(err.problems, [
      { path: 'spec.secretName', message: 'must not be empty' },
      { path: 'spec.renewBefore', message: 'must be shorter than spec.duration (48h)' },
    ]);
    return true;
  });
  assert.equal(await store.resourceVersion(), rv);
});

test('namespaced objects in a namespace that does not exist are refused', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  await assert.rejects(store.apply(configMap('a', {}, { namespace: 'linkerd' })), { code: ERR_NOT_FOUND, message: /namespace "linkerd"/ });
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'linkerd' } });
  assert.equal((await store.apply(configMap('a', {}, { namespace: 'linkerd' }))).outcome, 'created');
});

test('cluster-scoped kinds drop the namespace they were given', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  const { object } = await store.apply({
    apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'root', namespace: 'nowhere' }, spec: { selfSigned: {} },
  });
  assert.equal(object.metadata.namespace, undefined);
  assert.ok(await store.get('ClusterIssuer', 'root'));
});

test('status is written apart: spec apply keeps status, status write keeps spec and generation', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  const created = (await store.apply(certificate())).object;
  const withStatus = await store.updateStatus({
    kind: 'Certificate', metadata: created.metadata, status: { conditions: [{ type: 'Ready', status: 'True' }], revision: 1 },
  });
  assert.equal(withStatus.metadata.generation, 1);
  assert.deepEqual(withStatus.spec, created.spec);
  const reapplied = (await store.apply({ ...certificate({ dnsNames: ['web2.local'] }), status: { revision: 99 } })).object;
  assert.equal(reapplied.metadata.generation, 2);
  assert.equal(reapplied.status?.revision, 1);
  await assert.rejects(store.updateStatus({ kind: 'Certificate', metadata: created.metadata, status: {} }), { code: ERR_CONFLICT });
  await assert.rejects(store.updateStatus({ kind: 'Certificate', metadata: { name: 'nope' }, status: {} }), { code: ERR_NOT_FOUND });
});

test('list filters by namespace and by equality and set-based label selectors', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  await store.apply(configMap('a', {}, { labels: { app: 'web', tier: 'front' } }));
  await store.apply(configMap('b', {}, { labels: { app: 'db' } }));
  await store.apply(configMap('c', {}, { namespace: 'other', labels: { app: 'web' } }));
  const names = async (namespace: string | undefined, labelSelector: string) =>
    (await store.list('ConfigMap', { ...(namespace ? { namespace } : {}), labelSelector })).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  assert.deepEqual(await names(undefined, ''), ['default/a', 'default/b', 'other/c']);
  assert.deepEqual(await names('default', ''), ['default/a', 'default/b']);
  assert.deepEqual(await names(undefined, 'app=web'), ['default/a', 'other/c']);
  assert.deepEqual(await names(undefined, 'app!=web'), ['default/b']);
  assert.deepEqual(await names(undefined, 'app in (db, web),tier'), ['default/a']);
  assert.deepEqual(await names(undefined, 'app notin (web),!tier'), ['default/b']);
  assert.deepEqual(await names(undefined, 'app==web,tier=front'), ['default/a']);
});

test('deleting an owner deletes what it owns, recursively', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  const cert = (await store.apply(certificate())).object;
  const ownedBy = (o: { apiVersion: string; kind: string; metadata: { name: string; uid?: string } }) =>
    [{ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid as string, controller: true }];
  const secret = (await store.apply({
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-tls', namespace: 'default', ownerReferences: ownedBy(cert) }, data: {},
  })).object;
  await store.apply({ ...configMap('grandchild', {}), metadata: { name: 'grandchild', namespace: 'default', ownerReferences: ownedBy(secret) } });
  await store.apply(configMap('bystander', {}));
  const deleted = await store.delete('Certificate', 'web');
  assert.deepEqual(deleted.map((o) => `${o.kind}/${o.metadata.name}`), ['Certificate/web', 'Secret/web-tls', 'ConfigMap/grandchild']);
  assert.equal(await store.get('Secret', 'web-tls'), undefined);
  assert.ok(await store.get('ConfigMap', 'bystander'));
  assert.deepEqual(await store.delete('Certificate', 'web'), []);
});

test('deleting a namespace deletes what is in it, and default cannot be deleted', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  await store.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'linkerd' } });
  await store.apply(configMap('a', {}, { namespace: 'linkerd' }));
  await store.apply(configMap('a', {}));
  const deleted = await store.delete('Namespace', 'linkerd');
  assert.deepEqual(deleted.map((o) => `${o.kind}/${o.metadata.name}`), ['Namespace/linkerd', 'ConfigMap/a']);
  assert.deepEqual((await store.list('ConfigMap')).items.map((o) => o.metadata.namespace), ['default']);
  await assert.rejects(store.delete('Namespace', 'default'), /may not be deleted/);
});

test('a watch from a resourceVersion gets every change after it, tombstones included, across a reopen', async (t) => {
  const dir = tempStateDir(t);
  const first = openStore({ stateDir: dir });
  await first.apply(configMap('a', { v: '1' }));
  const seen = await first.resourceVersion();
  first.close();

  const second = openStore({ stateDir: dir });
  await second.apply(configMap('a', { v: '2' }));
  await second.apply(configMap('b', { v: '1' }));
  await second.delete('ConfigMap', 'a');
  await second.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'noise' } });
  second.close();

  const third = openStore({ stateDir: dir });
  t.after(() => third.close());
  const events: WatchEvent[] = [];
  for await (const e of third.watch({ kind: 'ConfigMap', fromResourceVersion: seen })) {
    events.push(e);
    if (events.length === 3) break;
  }
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name} ${JSON.stringify(e.object.data)}`), [
    'MODIFIED a {"v":"2"}', 'ADDED b {"v":"1"}', 'DELETED a {"v":"2"}',
  ]);
  const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
  assert.deepEqual(rvs, [...rvs].sort((x, y) => x - y));
});

test('a live watch sees writes made after it started, and ends on abort', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t) });
  t.after(() => store.close());
  const abort = new AbortController();
  const watch = store.watch({ kind: 'ConfigMap', signal: abort.signal });
  await store.apply(configMap('live', {}));
  const got: string[] = [];
  for await (const e of watch) {
    got.push(`${e.type} ${e.object.metadata.name}`);
    abort.abort();
  }
  assert.deepEqual(got, ['ADDED live']);
});

test('a watch from before the compacted log fails with Gone', async (t) => {
  const store = openStore({ stateDir: tempStateDir(t), changeLogSize: 10 });
  t.after(() => store.close());
  for (let i = 0; i < 140; i++) await store.apply(configMap('a', { i: String(i) }));
  const iterator = store.watch({ fromResourceVersion: '1' })[Symbol.asyncIterator]();
  await assert.rejects(iterator.next(), { code: ERR_GONE });
});

test('recordEvent stamps times from the store clock and counts repeats', async (t) => {
  let now = new Date('2030-01-01T00:00:00Z');
  const store = openStore({ stateDir: tempStateDir(t), clock: () => now });
  t.after(() => store.close());
  const cert = (await store.apply(certificate())).object;
  await recordEvent(store, cert, { type: 'Warning', reason: 'Failed', message: 'no CA', component: 'test' });
  now = new Date('2030-01-01T01:00:00Z');
  const e = await recordEvent(store, cert, { type: 'Warning', reason: 'Failed', message: 'no CA', component: 'test' });
  assert.equal(e.count, 2);
  assert.equal(e.firstTimestamp, '2030-01-01T00:00:00Z');
  assert.equal(e.lastTimestamp, '2030-01-01T01:00:00Z');
  assert.equal(e.involvedObject.uid, cert.metadata.uid);
  assert.equal((await store.list('Event')).items.length, 1);
});
