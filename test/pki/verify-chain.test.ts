/**
 * verifyChain() against the cases RFC 5280 path validation must reject, each with
 * its specific reason, and openssl verify as the judge that the case really is
 * invalid (and that the valid ones are valid).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { make, type Issued } from './fixtures.ts';
import { openssl, tempDir, weft } from './helpers.ts';
import { parseCertificates, verifyChain, type Certificate, type ChainFailureCode } from '../../src/pki/index.ts';

const AT = new Date('2027-03-01T12:00:00Z');
const DAY = 86_400_000;

interface Case {
  readonly name: string;
  readonly build: () => Promise<{ leaf: Certificate; roots: Issued[]; intermediates: Issued[] }>;
  readonly host?: string;
  readonly code: ChainFailureCode | 'valid';
  /** What openssl verify says about the same chain. */
  readonly openssl: RegExp;
}

async function anchorAndIssuer(): Promise<{ root: Issued; issuer: Issued }> {
  const root = await make({ cn: 'root.linkerd.cluster.local', ca: true, pathLen: 1 }, AT);
  const issuer = await make({ cn: 'identity.linkerd.cluster.local', ca: true, pathLen: 0, by: root }, AT);
  return { root, issuer };
}

const CASES: Case[] = [
  {
    name: 'accepts a leaf issued through an intermediate, with a wildcard host',
    host: 'web.emojivoto.svc',
    code: 'valid',
    openssl: /OK/,
    build: async () => {
      const { root, issuer } = await anchorAndIssuer();
      const leaf = await make({ cn: 'web', by: issuer, sans: ['*.emojivoto.svc', '10.0.0.7'] }, AT);
      return { leaf: leaf.cert, roots: [root], intermediates: [issuer] };
    },
  },
  {
    name: 'rejects an expired leaf as expired',
    code: 'expired',
    openssl: /certificate has expired/,
    build: async () => {
      const { root, issuer } = await anchorAndIssuer();
      const leaf = await make({ cn: 'web', by: issuer, notBefore: new Date(AT.getTime() - 2 * DAY), notAfter: new Date(AT.getTime() - DAY) }, AT);
      return { leaf: leaf.cert, roots: [root], intermediates: [issuer] };
    },
  },
  {
    name: 'rejects an intermediate that is not yet valid as not yet valid',
    code: 'not-yet-valid',
    openssl: /certificate is not yet valid/,
    build: async () => {
      const root = await make({ cn: 'root', ca: true, pathLen: 1 }, AT);
      const issuer = await make({ cn: 'issuer', ca: true, pathLen: 0, by: root, notBefore: new Date(AT.getTime() + DAY), notAfter: new Date(AT.getTime() + 3 * DAY) }, AT);
      const leaf = await make({ cn: 'web', by: issuer }, AT);
      return { leaf: leaf.cert, roots: [root], intermediates: [issuer] };
    },
  },
  {
    name: 'rejects a leaf from another trust anchor as of unknown issuer',
    code: 'unknown-issuer',
    openssl: /unable to get local issuer certificate/,
    build: async () => {
      const ours = await anchorAndIssuer();
      // The other mesh uses the very same names; only keys differ.
      const theirs = await anchorAndIssuer();
      const leaf = await make({ cn: 'web', by: theirs.issuer }, AT);
      return { leaf: leaf.cert, roots: [ours.root], intermediates: [ours.issuer] };
    },
  },
  {
    name: 'rejects a chain longer than the root\'s path length as pathlen exceeded',
    code: 'pathlen-exceeded',
    openssl: /path length constraint exceeded/,
    build: async () => {
      const root = await make({ cn: 'root', ca: true, pathLen: 1 }, AT);
      const first = await make({ cn: 'first', ca: true, by: root }, AT);
      const second = await make({ cn: 'second', ca: true, by: first }, AT);
      const leaf = await make({ cn: 'web', by: second }, AT);
      return { leaf: leaf.cert, roots: [root], intermediates: [first, second] };
    },
  },
  {
    name: 'rejects a certificate signed by a leaf as issuer not a CA',
    code: 'issuer-not-ca',
    openssl: /invalid CA certificate|not a CA/,
    build: async () => {
      const { root, issuer } = await anchorAndIssuer();
      const leaf = await make({ cn: 'leaf-as-ca', by: issuer, keyUsage: ['digitalSignature', 'keyCertSign'] }, AT);
      const victim = await make({ cn: 'web', by: leaf }, AT);
      return { leaf: victim.cert, roots: [root], intermediates: [issuer, leaf] };
    },
  },
  {
    name: 'rejects a CA without keyCertSign as a key usage failure',
    code: 'key-usage',
    openssl: /key usage does not include certificate signing/,
    build: async () => {
      const root = await make({ cn: 'root', ca: true, pathLen: 1 }, AT);
      const issuer = await make({ cn: 'issuer', ca: true, by: root, keyUsage: ['digitalSignature', 'cRLSign'] }, AT);
      const leaf = await make({ cn: 'web', by: issuer }, AT);
      return { leaf: leaf.cert, roots: [root], intermediates: [issuer] };
    },
  },
  {
    name: 'rejects a host the leaf does not name as host mismatch, and a wildcard covers one label only',
    host: 'a.web.emojivoto.svc',
    code: 'host-mismatch',
    openssl: /hostname mismatch/i,
    build: async () => {
      const { root, issuer } = await anchorAndIssuer();
      const leaf = await make({ cn: 'web', by: issuer, sans: ['*.emojivoto.svc'] }, AT);
      return { leaf: leaf.cert, roots: [root], intermediates: [issuer] };
    },
  },
];

for (const c of CASES) {
  test(`verifyChain() ${c.name}`, async (t) => {
    const { leaf, roots, intermediates } = await c.build();
    const result = verifyChain(leaf, {
      roots: roots.map((r) => r.cert),
      intermediates: intermediates.map((i) => i.cert),
      at: AT,
      ...(c.host === undefined ? {} : { host: c.host }),
    });
    if (c.code === 'valid') {
      assert.equal(result.kind, 'valid', result.kind === 'invalid' ? result.reason : '');
      assert.equal(result.kind === 'valid' ? result.chain.length : 0, 3);
    } else {
      assert.equal(result.kind, 'invalid');
      assert.equal(result.kind === 'invalid' ? result.code : '', c.code, result.kind === 'invalid' ? result.reason : '');
      assert.ok(result.kind === 'invalid' && result.reason.length > 10);
    }

    // openssl judges the same chain at the same time.
    const dir = tempDir(t);
    writeFileSync(join(dir, 'roots.pem'), roots.map((r) => r.cert.pem).join(''));
    writeFileSync(join(dir, 'intermediates.pem'), intermediates.map((i) => i.cert.pem).join('') || '\n');
    writeFileSync(join(dir, 'leaf.pem'), leaf.pem);
    const args = ['verify', '-attime', String(Math.floor(AT.getTime() / 1000)), '-CAfile', 'roots.pem',
      ...(intermediates.length > 0 ? ['-untrusted', 'intermediates.pem'] : []),
      ...(c.host === undefined ? [] : ['-verify_hostname', c.host]), 'leaf.pem'];
    const r = openssl(dir, args);
    assert.match(r.stdout + r.stderr, c.openssl);
    assert.equal(r.status === 0, c.code === 'valid');

    // And the CLI says the same, with exit 0 or 1 and the code in its one line.
    const cli = weft(dir, ['pki', 'verify', 'leaf.pem', '--roots', 'roots.pem', '--at', AT.toISOString(),
      ...(intermediates.length > 0 ? ['--intermediates', 'intermediates.pem'] : []),
      ...(c.host === undefined ? [] : ['--host', c.host])]);
    if (c.code === 'valid') {
      assert.equal(cli.status, 0, cli.stderr);
    } else {
      assert.equal(cli.status, 1, cli.stdout + cli.stderr);
      assert.equal(cli.stderr.trimEnd().split('\n').length, 1, cli.stderr);
      assert.match(cli.stderr, new RegExp(`\\(${c.code}\\)`));
    }
  });
}

test('verifyChain() rejects a leaf whose signature was tampered with as a bad signature', async () => {
  const { root, issuer } = await anchorAndIssuer();
  const leaf = await make({ cn: 'web', by: issuer }, AT);
  const der = new Uint8Array(leaf.cert.der);
  // The last byte is inside the signature value.
  der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
  const [tampered] = parseCertificates(der);
  const result = verifyChain(tampered as Certificate, { roots: [root.cert], intermediates: [issuer.cert], at: AT });
  assert.equal(result.kind === 'invalid' ? result.code : result.kind, 'bad-signature');
});

test('verifyChain() matches IP hosts against IP SANs only, and accepts a leaf that is itself a root', async () => {
  const self = await make({ cn: 'localhost', sans: ['localhost', '127.0.0.1', '::1'] }, AT);
  const opts = { roots: [self.cert], at: AT };
  assert.equal(verifyChain(self.cert, { ...opts, host: '127.0.0.1' }).kind, 'valid');
  assert.equal(verifyChain(self.cert, { ...opts, host: '0:0:0:0:0:0:0:1' }).kind, 'valid');
  assert.equal(verifyChain(self.cert, { ...opts, host: 'LOCALHOST' }).kind, 'valid');
  const wrong = verifyChain(self.cert, { ...opts, host: '127.0.0.2' });
  assert.equal(wrong.kind === 'invalid' ? wrong.code : wrong.kind, 'host-mismatch');
});
