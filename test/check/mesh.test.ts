/**
 * `weft check` on a running mesh: the article's scenario passes with no warning
 * through its renewals, and each thing broken on purpose fails the right check,
 * with the right hint and exit code. Stores are real (SQLite in a temp dir), the
 * certificates are issued by the real controller, the control plane is the real
 * identity service, and the CLI runs as a user runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  articleMesh, assertGolden, check, closedPort, H, pkiCreate, section, startControlPlane, weft,
} from './helpers.ts';

test("the article's mesh passes every check without a warning (golden text and JSON)", async (t) => {
  const mesh = await articleMesh(t);
  const admin = await startControlPlane(t, mesh);
  const text = await check(mesh, admin);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assertGolden('article.txt', text.stdout);
  assert.doesNotMatch(text.stdout, /‼|×/);
  const json = await check(mesh, admin, ['-o', 'json', '--fail-on', 'warning']);
  assert.equal(json.code, 0, json.stdout + json.stderr);
  assertGolden('article.json', json.stdout);
  assert.equal(JSON.parse(json.stdout).status, 'ok');
});

test("the article's issuer stays without a warning through three days of renewals every 23h", async (t) => {
  const mesh = await articleMesh(t);
  const admin = await startControlPlane(t, mesh);
  for (let hour = 0; hour <= 72; hour += 8) {
    const r = await check(mesh, admin, ['--fail-on', 'warning']);
    assert.equal(r.code, 0, `at +${hour}h:\n${r.stdout}`);
    assert.match(section(r.stdout, 'issuer cert is valid for at least 60d'), /rotates automatically; next renewal .*, 25h before expiry/);
    mesh.clock.advance(8 * H);
    await mesh.controller.reconcileAll();
  }
  const cert = await mesh.store.get('Certificate', 'linkerd-identity-issuer', 'linkerd');
  assert.ok((cert!.status?.revision ?? 0) >= 3, 'the issuer was renewed during the test');
});

test('an anchor expiring within the threshold, which nothing renews, is an error with the anchor-expiry hint', async (t) => {
  const mesh = await articleMesh(t, { anchorNotAfter: '2026-12-31T00:00:00Z' });
  const admin = await startControlPlane(t, mesh);
  const r = await check(mesh, admin);
  assert.equal(r.code, 1);
  assertGolden('anchor-soon.txt', r.stdout);
  const s = section(r.stdout, 'trust anchors are valid for at least 60d');
  assert.match(s, /^× /);
  assert.match(s, /expires at 2026-12-31T00:00:00Z \(in 30d\), within the 60d threshold, and nothing renews it automatically/);
  assert.match(s, /see docs\/check\.md#anchor-expiry for hints/);
  // A shorter threshold is the operator's call.
  assert.equal((await check(mesh, admin, ['--expiry-threshold', '7d'])).code, 0);
});

test('an expired anchor fails the validity check', async (t) => {
  const mesh = await articleMesh(t, { anchorNotAfter: '2026-12-01T12:00:00Z' });
  const admin = await startControlPlane(t, mesh);
  mesh.clock.advance(13 * H);
  const r = await check(mesh, admin, ['-o', 'json']);
  assert.equal(r.code, 1);
  const checks = JSON.parse(r.stdout).categories.flatMap((c: { checks: unknown[] }) => c.checks) as Array<{ description: string; result: string; hint: string; error?: string }>;
  const validity = checks.find((c) => c.description === 'trust anchors are within their validity period');
  assert.equal(validity?.result, 'error');
  assert.equal(validity?.hint, 'docs/check.md#anchors-validity');
  assert.match(validity?.error ?? '', /expired at 2026-12-01T12:00:00Z/);
});

test('an issuer from another root fails "issued by a trust anchor"', async (t) => {
  const mesh = await articleMesh(t);
  const admin = await startControlPlane(t, mesh);
  pkiCreate(mesh.dir, ['root.other.cluster.local', 'other.crt', 'other.key', '--profile', 'root-ca', '--no-password', '--insecure',
    '--not-before=2026-11-01T00:00:00Z', '--not-after=2036-11-01T00:00:00Z']);
  await mesh.store.apply({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'weft-identity-trust-roots', namespace: 'linkerd' },
    data: { 'ca-bundle.crt': readFileSync(join(mesh.dir, 'other.crt'), 'utf8') },
  });
  const r = await check(mesh, admin);
  assert.equal(r.code, 1);
  const s = section(r.stdout, 'issuer cert is issued by a trust anchor');
  assert.match(s, /^× .*\n    The issuer "CN=identity.linkerd.cluster.local" does not chain to the trust anchors: Cannot find the issuer/);
  assert.match(s, /see docs\/check\.md#issuer-trust for hints/);
  assert.match(section(r.stdout, 'issuer key matches the issuer cert'), /^✓/);
});

test('an issuer key that does not match its certificate fails "issuer key matches"', async (t) => {
  const mesh = await articleMesh(t);
  const admin = await startControlPlane(t, mesh);
  pkiCreate(mesh.dir, ['stray', 'stray.crt', 'stray.key', '--profile', 'root-ca', '--no-password', '--insecure']);
  const secret = await mesh.store.get('Secret', 'linkerd-identity-issuer', 'linkerd');
  await mesh.store.apply({ ...secret!, data: { ...secret!.data, 'tls.key': readFileSync(join(mesh.dir, 'stray.key')).toString('base64') } });
  const r = await check(mesh, admin);
  assert.equal(r.code, 1);
  const s = section(r.stdout, 'issuer key matches the issuer cert');
  assert.match(s, /^× .*\n    "tls.key" of Secret "linkerd\/linkerd-identity-issuer" is not the key of the certificate in "tls.crt"/);
  assert.match(s, /docs\/check\.md#issuer-key/);
});

test('a Certificate stuck renewing fails the certificates checks, and the issuer is only warned about', async (t) => {
  const mesh = await articleMesh(t);
  const admin = await startControlPlane(t, mesh);
  pkiCreate(mesh.dir, ['stray', 'stray.crt', 'stray.key', '--profile', 'root-ca', '--no-password', '--insecure']);
  // The anchor Secret's key no longer matches its certificate: the CA Issuer cannot sign the renewal.
  const anchor = await mesh.store.get('Secret', 'linkerd-trust-anchor', 'linkerd');
  await mesh.store.apply({ ...anchor!, data: { ...anchor!.data, 'tls.key': readFileSync(join(mesh.dir, 'stray.key')).toString('base64') } });
  mesh.clock.advance(23 * H);
  await mesh.controller.reconcileAll();
  mesh.clock.advance(H);
  await mesh.controller.reconcileAll();
  const r = await check(mesh, admin);
  assert.equal(r.code, 1);
  assertGolden('stuck-renewal.txt', r.stdout);
  assert.match(section(r.stdout, 'every Issuer is Ready'), /^× [^]*Issuer "linkerd\/linkerd-trust-anchor" is not Ready: ErrInvalidKeyPair[^]*#issuers-ready/);
  assert.match(section(r.stdout, 'no Certificate is failing to issue'),
    /^× [^]*Certificate "linkerd\/linkerd-identity-issuer" has been issuing since 2026-12-01T23:00:00Z \(1h\)[^]*#certificates-issuing/);
  // Rotation-aware: still valid for 24h, renewing automatically but late: a warning, not an expiry error.
  assert.match(section(r.stdout, 'issuer cert is valid for at least 60d'),
    /^‼ [^]*rotates automatically, but its renewal was due at 2026-12-01T23:00:00Z and has not happened/);
});

test('an issuer that nothing renews is an error inside the threshold; one that renews too late is a warning', async (t) => {
  const mesh = await articleMesh(t);
  const admin = await startControlPlane(t, mesh);
  // Renewing 12h before expiry cannot cover 24h workload certificates.
  const cert = await mesh.store.get('Certificate', 'linkerd-identity-issuer', 'linkerd');
  await mesh.store.apply({ ...cert!, spec: { ...cert!.spec, renewBefore: '12h' } });
  await mesh.controller.reconcileAll();
  let r = await check(mesh, admin);
  assert.equal(r.code, 0, r.stdout);
  assert.match(section(r.stdout, 'issuer cert is valid for at least 60d'),
    /^‼ [^]*it renews 12h before it expires, but certificates it signs live 24h: set spec.renewBefore of Certificate "linkerd\/linkerd-identity-issuer" to at least 24h/);
  assert.equal((await check(mesh, admin, ['--fail-on', 'warning'])).code, 1, 'CI fails on the warning');

  // The same issuer given by hand (its Certificate gone): nothing renews it, so 36h left is an error.
  await mesh.store.delete('Certificate', 'linkerd-identity-issuer', 'linkerd');
  r = await check(mesh, admin);
  assert.equal(r.code, 1);
  assert.match(section(r.stdout, 'issuer cert is valid for at least 60d'), /^× [^]*within the 60d threshold, and nothing renews it automatically[^]*#issuer-expiry/);
});

test('a state directory without a store stops the run at the first check', async (t) => {
  const mesh = await articleMesh(t);
  const r = await weft(['check', '--state-dir', join(mesh.dir, 'nowhere'), '--at', mesh.clock.now().toISOString()]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^weft-store\n----------\n× store is reachable\n    No store at ".*nowhere\/store.db": start the mesh with "weft up"/);
  assert.match(r.stdout, /The remaining checks did not run: fix the error above first\.\n\nStatus check results are ×\n$/);
});

test('a control plane that does not answer fails "control plane is running and ready"', async (t) => {
  const mesh = await articleMesh(t);
  const r = await check(mesh, `127.0.0.1:${await closedPort()}`);
  assert.equal(r.code, 1);
  assert.match(section(r.stdout, 'control plane is running and ready'), /^× [^]*connection refused[^]*#control-plane-ready/);
});

test('bad flags are a usage error (exit 2, one line)', async (t) => {
  const mesh = await articleMesh(t);
  for (const [args, message] of [
    [['-o', 'yaml'], /^error: Use -o text or -o json: got "yaml"\n$/],
    [['--fail-on', 'info'], /^error: Use --fail-on error or --fail-on warning: got "info"\n$/],
    [['--expiry-threshold', 'soon'], /^error: Use a positive duration such as "60d" or "720h" for --expiry-threshold: cannot read "soon"\n$/],
    [['--proxy', '--proxy-admin', 'nowhere'], /^error: Use \[NS\/POD=\]HOST:PORT\[,INBOUND_PORT\]\[#IDENTITY\] for --proxy-admin "nowhere"/],
  ] as const) {
    const r = await weft(['check', '--state-dir', mesh.stateDir, ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});
