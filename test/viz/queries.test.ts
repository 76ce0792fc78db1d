/**
 * The queries over the recorded emojivoto metrics: what `weft viz stat`, `edges`,
 * `top`, `tap` and the dashboard show, checked against the traffic the recording
 * made (fixtures/record-emojivoto.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgeRows, statRows, tapEvents, topPaths, workloadSeries, certificateChain, type StatRow } from '../../src/viz/index.ts';
import { emojivotoData, PODS, T0 } from './helpers.ts';

const MIN = 60_000;
const byName = (rows: StatRow[]): Record<string, StatRow> => Object.fromEntries(rows.map((r) => [r.name, r]));

test('stat shows the doughnut failures as a success rate below 100% for web and voting, and 100% for emoji', () => {
  const rows = byName(statRows(emojivotoData(), { kind: 'deployment', namespace: 'emojivoto', windowMs: MIN }));
  assert.deepEqual(Object.keys(rows), ['emoji', 'vote-bot', 'voting', 'web']);
  // 120 responses a minute at web, 9 of them failed doughnut votes.
  assert.equal(rows['web']!.successRate, 111 / 120);
  assert.equal(rows['voting']!.successRate, 51 / 60);
  assert.equal(rows['emoji']!.successRate, 1);
  assert.equal(rows['vote-bot']!.successRate, undefined, 'vote-bot serves nothing');
  assert.equal(rows['web']!.rps, 2);
  assert.equal(rows['voting']!.rps, 1);
  for (const r of Object.values(rows)) assert.equal(`${r.meshedPods}/${r.totalPods}`, '1/1');
  assert.equal(rows['web']!.tcpConnections, 1);
});

test('stat counts traffic across a proxy restart (emoji\'s counters reset mid-window)', () => {
  const emoji = byName(statRows(emojivotoData(), { kind: 'deployment', namespace: 'emojivoto', windowMs: MIN }))['emoji']!;
  assert.equal(emoji.responses, 120);
  assert.equal(emoji.rps, 2);
});

test('stat latency quantiles come from the histogram buckets', () => {
  const rows = byName(statRows(emojivotoData(), { kind: 'deployment', namespace: 'emojivoto', windowMs: MIN }));
  // web: 60 responses at 8 ms (bucket 5–10], 51 at 12 ms and 9 at 15 ms (bucket 10–20]: rank 60 closes the 10 ms bucket.
  assert.equal(rows['web']!.p50, 10);
  assert.ok(rows['web']!.p99! > 10 && rows['web']!.p99! <= 20);
  // emoji: every response under 2 ms (bucket 1–2].
  assert.ok(rows['emoji']!.p50! > 1 && rows['emoji']!.p99! <= 2);
});

test('stat over a shorter window sees only its scrapes', () => {
  // The last 10 s: one interval, with 2 doughnut votes of 10.
  const web = byName(statRows(emojivotoData(), { kind: 'deployment', namespace: 'emojivoto', windowMs: 10_000 }))['web']!;
  assert.equal(web.responses, 20);
  assert.equal(web.successRate, 18 / 20);
});

test('stat --to voting lists its callers, --from vote-bot lists what vote-bot calls', () => {
  const data = emojivotoData();
  const to = statRows(data, { kind: 'deployment', namespace: 'emojivoto', to: { kind: 'deployment', name: 'voting' }, windowMs: MIN });
  assert.deepEqual(to.map((r) => [r.name, r.successRate]), [['web', 51 / 60]]);
  const from = statRows(data, { kind: 'deployment', namespace: 'emojivoto', from: { kind: 'deployment', name: 'vote-bot' }, windowMs: MIN });
  assert.deepEqual(from.filter((r) => r.responses > 0).map((r) => r.name), ['web']);
});

test('stat groups by pod, namespace and service too', () => {
  const data = emojivotoData();
  assert.equal(statRows(data, { kind: 'pod', namespace: 'emojivoto', name: PODS.web })[0]!.successRate, 111 / 120);
  const ns = statRows(data, { kind: 'namespace' });
  assert.deepEqual(ns.map((r) => [r.name, r.meshedPods, r.responses]), [['emojivoto', 4, 300]]);
  assert.deepEqual(statRows(data, { kind: 'service', namespace: 'emojivoto' }).map((r) => r.name), ['emoji-svc', 'voting-svc', 'web-svc']);
});

test('edges are every demo hop, secured, with the client and server identities', () => {
  const rows = edgeRows(emojivotoData(), { kind: 'deployment', namespace: 'emojivoto', windowMs: MIN });
  const id = (sa: string): string => `${sa}.emojivoto.serviceaccount.identity.weft.cluster.local`;
  assert.deepEqual(rows.map((e) => [e.src, e.dst, e.secured, e.clientId, e.serverId]), [
    ['vote-bot', 'web', true, id('vote-bot'), id('web')],
    ['web', 'emoji', true, id('web'), id('emoji')],
    ['web', 'voting', true, id('web'), id('voting')],
  ]);
  assert.equal(rows.find((e) => e.dst === 'voting')!.successRate, 51 / 60);
});

test('edges to a plain-text destination are not secured and are found through the authority', () => {
  const data = emojivotoData();
  const bot = data.histories.find((h) => h.target.deployment === 'vote-bot')!;
  const last = bot.scrapes[bot.scrapes.length - 1]!;
  const plain = { name: 'request_total', labels: { direction: 'outbound', authority: 'web-svc.emojivoto.svc.cluster.local:80', tls: 'no_identity' }, value: 3 };
  const changed = { ...data, histories: data.histories.map((h) => (h === bot ? { ...h, scrapes: [...h.scrapes.slice(0, -1), { ...last, samples: [...last.samples, plain] }] } : h)) };
  const edge = edgeRows(changed, { kind: 'deployment' }).find((e) => e.src === 'vote-bot')!;
  assert.equal(edge.secured, false, 'one plain-text series makes the edge not secured');
});

test('an edge that is mTLS in the window is secured though its caller sent plain text before (regression: start-up requests, sent before the peer was known to discovery, marked the demo\'s vote-bot → web edge insecure for good)', () => {
  const data = emojivotoData();
  const bot = data.histories.find((h) => h.target.deployment === 'vote-bot')!;
  const withEveryScrape = (extra: Array<{ name: string; labels: Record<string, string>; value: number }>, keep: (name: string) => boolean = () => true) => ({
    ...data, histories: data.histories.map((h) => ({ ...h, scrapes: h.scrapes.map((sc) => ({ ...sc, samples: [...sc.samples.filter((x) => keep(x.name)), ...(h === bot ? extra : [])] })) })),
  });
  const plain = { direction: 'outbound', authority: 'web-svc.emojivoto.svc.cluster.local:80', tls: 'no_identity' };
  const botEdge = (d: ReturnType<typeof withEveryScrape>, windowMs: number) => edgeRows(d, { kind: 'deployment', windowMs }).find((e) => e.src === 'vote-bot')!.secured;
  const old = withEveryScrape([{ name: 'request_total', labels: plain, value: 3 }]);
  assert.equal(botEdge(old, MIN), true, 'old plain-text requests, none in the window');
  const idle = withEveryScrape([{ name: 'request_total', labels: plain, value: 3 }], (name) => name !== 'tcp_open_connections');
  assert.equal(botEdge(idle, 1), false, 'an edge idle in the window (no request, no open connection) is judged by all its counters');
  const open = withEveryScrape([{ name: 'tcp_open_total', labels: plain, value: 1 }, { name: 'tcp_open_connections', labels: plain, value: 1 }]);
  assert.equal(botEdge(open, MIN), false, 'a plain-text connection opened long ago and still open');
});

test('top lists the busiest paths first', () => {
  const rows = topPaths(emojivotoData(), { namespace: 'emojivoto', windowMs: MIN });
  assert.deepEqual(rows.map((r) => `${r.src}→${r.dst}`), ['vote-bot→web', 'web→emoji', 'web→voting']);
  assert.equal(rows[0]!.authority, 'web-svc.emojivoto.svc.cluster.local:80');
});

test('tap turns each scrape interval\'s responses into batches, failures apart', () => {
  const events = tapEvents(emojivotoData(), { resource: { kind: 'deployment', name: 'voting', namespace: 'emojivoto' }, sinceMs: T0 + 50_000 });
  assert.deepEqual(events.map((e) => [e.src, e.dst, e.statusCode, e.classification, e.count]), [
    ['emojivoto/web', 'emojivoto/voting', '200', 'success', 8],
    ['emojivoto/web', 'emojivoto/voting', '200', 'failure', 2],
  ].sort((a, b) => String(a[3]).localeCompare(String(b[3]))));
});

test('the workload series has one point per interval, with the failures', () => {
  const s = workloadSeries(emojivotoData(), 'emojivoto/voting', { kind: 'deployment', stepMs: 10_000 });
  assert.equal(s.time.length, 6);
  assert.deepEqual(s.successRate, [0.9, 0.8, 0.9, 0.8, 0.9, 0.8]);
  assert.deepEqual(s.rps, [1, 1, 1, 1, 1, 1]);
});

test('the certificate chain warns where a renewal failed or is late, and lists workload certificates', () => {
  const now = T0 + 60_000;
  const cert = (name: string, status: Record<string, unknown>) => ({
    apiVersion: 'cert-manager.io/v1' as const, kind: 'Certificate' as const, metadata: { name, namespace: 'weft' },
    spec: { secretName: name, issuerRef: { name: 'ca' }, isCA: true }, status,
  });
  const view = certificateChain({
    certificates: [
      cert('weft-identity-issuer', { notBefore: '2025-12-31T00:00:00Z', notAfter: '2026-01-02T00:00:00Z', renewalTime: '2026-01-01T00:30:00Z', revision: 3, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready' }] }),
      cert('late', { notAfter: '2026-01-02T00:00:00Z', renewalTime: '2025-12-31T23:00:00Z', failedIssuanceAttempts: 2, lastFailureTime: '2025-12-31T23:30:00Z', conditions: [{ type: 'Ready', status: 'True' }] }),
    ],
    events: [
      { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'weft' }, involvedObject: { kind: 'Certificate', name: 'weft-identity-issuer', namespace: 'weft' }, reason: 'Issued', message: 'The certificate has been successfully issued', lastTimestamp: '2025-12-31T00:00:00Z' },
      { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e2', namespace: 'weft' }, involvedObject: { kind: 'Secret', name: 'weft-identity-issuer', namespace: 'weft' }, reason: 'IssuerUpdated', message: 'Loaded issuer', lastTimestamp: '2025-12-31T00:00:05Z' },
    ],
    proxies: [{ pod: 'emojivoto/web-1', identity: 'web', notAfterSeconds: now / 1000 + 1800 }],
  }, now);
  const issuer = view.issuers.find((i) => i.name === 'weft-identity-issuer')!;
  assert.equal(issuer.renewalTimeMs, Date.parse('2026-01-01T00:30:00Z'));
  assert.deepEqual(issuer.rotations.map((r) => r.reason), ['Issued', 'IssuerUpdated']);
  assert.deepEqual(issuer.warnings, []);
  assert.deepEqual(view.warnings, [
    'Certificate "weft/late" renewal failed 2 time(s), last at 2025-12-31T23:30:00Z',
    'Certificate "weft/late" renewal is late: it was due at 2025-12-31T23:00:00Z',
    'Proxy "emojivoto/web-1" should have renewed its certificate at 2025-12-31T17:19:00Z and has not; it expires at 2026-01-01T00:31:00Z',
  ]);
});

test('the certificate chain judges workload certificates by their renewal schedule, not by a fixed hour (regression: every demo proxy with 1m certificates was flagged)', () => {
  const now = T0 + 60_000;
  const view = (notAfterSeconds: number) => certificateChain({ certificates: [], events: [], workloadLifetimeMs: 60_000, proxies: [{ pod: 'emojivoto/web-1', identity: 'web', notAfterSeconds }] }, now).warnings;
  assert.deepEqual(view(now / 1000 + 50), [], 'fresh');
  assert.deepEqual(view(now / 1000 + 5), [], 'past 70% but within the retries\' minute');
  assert.deepEqual(view(now / 1000 - 1), ['Proxy "emojivoto/web-1" serves an expired certificate (expired 2026-01-01T00:00:59Z)']);
});

test('the certificate chain places each workload certificate by the configured lifetime: issued lifetime before expiry, renewed 70% through (regression: the page assumed 24h)', () => {
  const now = T0 + 60_000;
  const notAfterSeconds = now / 1000 + 90;
  const chain = (workloadLifetimeMs?: number) => certificateChain({
    certificates: [], events: [], proxies: [{ pod: 'emojivoto/web-1', identity: 'web', notAfterSeconds }], ...(workloadLifetimeMs === undefined ? {} : { workloadLifetimeMs }),
  }, now).workloads[0];
  const notAfterMs = notAfterSeconds * 1000;
  assert.deepEqual(chain(120_000), {
    pod: 'emojivoto/web-1', identity: 'web', notBeforeMs: notAfterMs - 120_000, notAfterMs, lifetimeMs: 120_000,
    renewalTimeMs: notAfterMs - 120_000 + 84_000, warnings: [],
  });
  const day = chain();
  assert.equal(day?.lifetimeMs, 24 * 3_600_000, 'identity\'s default when weft-config does not say');
  assert.equal(day?.notBeforeMs, notAfterMs - 24 * 3_600_000);
  assert.equal(day?.renewalTimeMs, notAfterMs - 24 * 3_600_000 + 0.7 * 24 * 3_600_000);
});
