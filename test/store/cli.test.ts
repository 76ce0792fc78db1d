import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openStore, recordEvent, resolveStateDir } from '../../src/store/index.ts';
import { tempStateDir } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const WEFT = join(ROOT, 'bin', 'weft.js');
const ARTICLE = join(ROOT, 'test', 'api', 'fixtures', 'article.yaml');

interface Run { code: number | null; stdout: string; stderr: string }

function cli(t: TestContext) {
  const dir = tempStateDir(t);
  const state = join(dir, 'state');
  const weft = (args: string[], input?: string): Run => {
    const r = spawnSync(process.execPath, [WEFT, ...args, '--state-dir', state], { encoding: 'utf8', input: input ?? '', cwd: dir });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return { dir, state, weft };
}

/** A real CA key pair from openssl, as the article's trust anchor. */
function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { cert, key };
}

test("weft applies the article's Secret, Issuer and Certificate and shows them like kubectl", async (t) => {
  const { dir, state, weft } = cli(t);
  const ca = makeCa(dir, 'ca');
  assert.deepEqual(weft(['create', 'namespace', 'linkerd']), { code: 0, stdout: 'namespace/linkerd created\n', stderr: '' });
  const secret = weft(['create', 'secret', 'tls', 'linkerd-trust-anchor', '--cert', ca.cert, '--key', ca.key, '-n', 'linkerd']);
  assert.equal(secret.stdout, 'secret/linkerd-trust-anchor created\n', secret.stderr);

  const applied = weft(['apply', '-f', ARTICLE]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.stdout, 'issuer.cert-manager.io/linkerd-trust-anchor created\ncertificate.cert-manager.io/linkerd-identity-issuer created\n');
  assert.equal(weft(['apply', '-f', ARTICLE]).stdout,
    'issuer.cert-manager.io/linkerd-trust-anchor unchanged\ncertificate.cert-manager.io/linkerd-identity-issuer unchanged\n');

  const table = weft(['get', 'certificates', '-n', 'linkerd']);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+READY\s+SECRET\s+AGE$/);
  assert.match(lines[1] ?? '', /^linkerd-identity-issuer\s+linkerd-identity-issuer\s+\d+s$/);
  assert.match(weft(['get', 'cert', '-A', '-o', 'wide']).stdout, /^NAMESPACE\s+NAME\s+READY\s+SECRET\s+ISSUER\s+STATUS\s+AGE\nlinkerd\s+linkerd-identity-issuer\s+linkerd-identity-issuer\s+linkerd-trust-anchor/);
  assert.match(weft(['get', 'secret', '-n', 'linkerd']).stdout, /linkerd-trust-anchor\s+kubernetes\.io\/tls\s+2\s/);
  assert.match(weft(['get', 'ns']).stdout, /^NAME\s+STATUS\s+AGE\ndefault\s+Active\s+\S+\nlinkerd\s+Active/);

  const json = JSON.parse(weft(['get', 'cert', 'linkerd-identity-issuer', '-n', 'linkerd', '-o', 'json']).stdout);
  assert.equal(json.spec.renewBefore, '25h');
  assert.equal(json.metadata.generation, 1);
  assert.match(weft(['get', 'issuers', '-n', 'linkerd', '-o', 'yaml']).stdout, /^apiVersion: v1\nkind: List\nitems:\n  - apiVersion: cert-manager.io\/v1\n    kind: Issuer/);

  // A controller (here: the test) records an Event; describe shows it.
  const store = openStore({ stateDir: state, clock: () => new Date(Date.now() - 90_000) });
  const cert = await store.get('Certificate', 'linkerd-identity-issuer', 'linkerd');
  assert.ok(cert);
  await recordEvent(store, cert, { type: 'Normal', reason: 'Issuing', message: 'Issuing certificate as Secret does not exist', component: 'weft-certs' });
  store.close();
  const described = weft(['describe', 'certificate', 'linkerd-identity-issuer', '-n', 'linkerd']);
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /^Name:\s+linkerd-identity-issuer\nNamespace:\s+linkerd\n/);
  assert.match(described.stdout, /\nSpec:\n(.*\n)*  Renew Before:\s+25h\n/);
  assert.match(described.stdout, /  Dns Names:\n    identity\.linkerd\.cluster\.local\n/);
  assert.match(described.stdout, /Events:\n  Type\s+Reason\s+Age\s+From\s+Message\n  ----.*\n  Normal\s+Issuing\s+\d+s\s+weft-certs\s+Issuing certificate as Secret does not exist\n$/);
  const secretDescribed = weft(['describe', 'secret', 'linkerd-trust-anchor', '-n', 'linkerd']).stdout;
  assert.match(secretDescribed, /Type:  kubernetes\.io\/tls\n\nData\n====\ntls\.crt:  \d+ bytes\ntls\.key:  \d+ bytes\n/);
  assert.doesNotMatch(secretDescribed, /BEGIN|LS0t/);

  assert.deepEqual(weft(['delete', 'cert', 'linkerd-identity-issuer', '-n', 'linkerd']),
    { code: 0, stdout: 'certificate.cert-manager.io "linkerd-identity-issuer" deleted\n', stderr: '' });
  const gone = weft(['get', 'cert', 'linkerd-identity-issuer', '-n', 'linkerd']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^Error from server \(NotFound\): certificates\.cert-manager\.io "linkerd-identity-issuer" not found in namespace "linkerd": run "weft get certificates -A"/);
  const nsDeleted = weft(['delete', 'namespace', 'linkerd']);
  assert.match(nsDeleted.stdout,
    /^namespace "linkerd" deleted\n  event\/linkerd-identity-issuer\.[0-9a-f]+ deleted with it\n  issuer\.cert-manager\.io\/linkerd-trust-anchor deleted with it\n  secret\/linkerd-trust-anchor deleted with it\n$/);
  assert.equal(weft(['get', 'secret', '-A']).stderr, 'No resources found.\n');
});

test('weft apply reports bad YAML, unknown kinds and invalid fields by path, exits 2 and stores nothing', (t) => {
  const { dir, weft } = cli(t);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, `apiVersion: v1
kind: Namespace
metadata: {name: fine}
---
apiVersion: v1
kind: Widget
metadata: {name: web}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: broken}
spec:
  secretName: broken
  duration: 48h
  renewBefore: 49h
  issuerRef: {name: ca, kind: Issuer}
  dnsNames: [a.example]
  usages: [cert sign, flying]
---
key: [unclosed
`);
  const r = weft(['apply', '-f', file]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0] ?? '', new RegExp(`^${file}: document 4: not valid YAML at line \\d+`));
  assert.match(lines[1] ?? '', new RegExp(`^${file}: document 2 \\(Widget/web\\): kind: unknown kind "Widget": use one of Namespace, `));
  assert.equal(lines[2], `${file}: document 3 (Certificate/broken): spec.usages[1]: must be one of: "signing", "digital signature", "content commitment", "key encipherment", "key agreement", "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any", "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc"`);
  assert.equal(lines[3], `${file}: document 3 (Certificate/broken): spec.renewBefore: must be shorter than spec.duration (48h)`);
  assert.equal(lines[4], 'error: Fix the 4 problem(s) above and apply again: nothing was applied');
  assert.equal(weft(['get', 'ns', 'fine']).code, 1, 'the valid Namespace in the same file was not stored');
});

test('weft apply refuses objects in a namespace that does not exist, unless the same apply creates it', (t) => {
  const { dir, weft } = cli(t);
  const r = weft(['apply', '-f', ARTICLE]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /document 1 \(Issuer\/linkerd-trust-anchor\): metadata\.namespace: namespace "linkerd" not found: create it first \(weft create namespace linkerd\)/);
  assert.equal(weft(['get', 'issuer', '-A']).stderr, 'No resources found.\n');
  const withNs = join(dir, 'with-ns.json');
  // JSON from stdin, with the namespace after the objects in it.
  const list = { apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'self', namespace: 'linkerd' }, spec: { selfSigned: {} } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'linkerd' } },
  ] };
  writeFileSync(withNs, JSON.stringify(list));
  const ok = weft(['apply', '-f', '-'], JSON.stringify(list));
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'namespace/linkerd created\nissuer.cert-manager.io/self created\n');
  const del = weft(['delete', '-f', withNs]);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(del.stdout, 'issuer.cert-manager.io "self" deleted\nnamespace "linkerd" deleted\n');
});

test('weft create secret tls refuses a key that does not match the certificate', (t) => {
  const { dir, weft } = cli(t);
  const a = makeCa(dir, 'a');
  const b = makeCa(dir, 'b');
  const r = weft(['create', 'secret', 'tls', 'x', '--cert', a.cert, '--key', b.key]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Give the key of the certificate: ".*b\.key" does not match the first certificate in ".*a\.crt"/);
  assert.equal(weft(['get', 'secret', 'x']).code, 1);
  const notPem = weft(['create', 'secret', 'tls', 'x', '--cert', ARTICLE, '--key', a.key]);
  assert.equal(notPem.code, 2);
});

test('weft get refuses unknown kinds and formats with what to type instead', (t) => {
  const { weft } = cli(t);
  const kind = weft(['get', 'widgets']);
  assert.equal(kind.code, 2);
  assert.match(kind.stderr, /Use one of the resource types weft knows: .*certificate \(cert, certs\)/);
  const format = weft(['get', 'ns', '-o', 'xml']);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /Use -o wide, -o yaml or -o json/);
  assert.match(weft(['get', 'cm', '-l', 'app in (a']).stderr, /Use a label selector such as/);
});

test('resolveStateDir() prefers the flag, then WEFT_STATE_DIR, then root or XDG defaults', () => {
  assert.equal(resolveStateDir('/flag', { env: { WEFT_STATE_DIR: '/env' } }), '/flag');
  assert.equal(resolveStateDir(undefined, { env: { WEFT_STATE_DIR: '/env' }, uid: 0 }), '/env');
  assert.equal(resolveStateDir(undefined, { env: {}, uid: 0 }), '/var/lib/weft');
  assert.equal(resolveStateDir(undefined, { env: { XDG_STATE_HOME: '/x' }, uid: 1000 }), '/x/weft');
  assert.equal(resolveStateDir(undefined, { env: { XDG_STATE_HOME: 'relative' }, uid: 1000, home: '/home/u' }), '/home/u/.local/state/weft');
});

test('weft create serviceaccount creates once and then says it already exists', (t) => {
  const { weft } = cli(t);
  assert.deepEqual(weft(['create', 'serviceaccount', 'web']), { code: 0, stdout: 'serviceaccount/web created\n', stderr: '' });
  const again = weft(['create', 'sa', 'web']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^Error from server \(AlreadyExists\): serviceaccounts "web" already exists: use weft apply -f to change it/);
  assert.match(weft(['get', 'sa']).stdout, /^NAME\s+SECRETS\s+AGE\nweb\s+0\s+\d+s\n$/);
});

test('a --state-dir that is a file is refused in one line, before anything runs', (t) => {
  const dir = tempStateDir(t);
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, '');
  for (const args of [['get', 'ns'], ['down']]) {
    const r = spawnSync(process.execPath, [WEFT, ...args, '--state-dir', file], { encoding: 'utf8' });
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr, `error: Give --state-dir (or $WEFT_STATE_DIR) a directory: "${file}" is not one\n`);
  }
});
