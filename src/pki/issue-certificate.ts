import { randomBytes } from 'node:crypto';
import { x509, crypto } from './x509-runtime.ts';
import { PkiError, PkiErrorCode } from './errors.ts';
import {
  assembleCertificate, extKeyUsageName, extKeyUsageOid, internalsOf, keyUsageFlags, keyUsageNames, signatureAlgorithmName, type Certificate,
} from './certificate.ts';
import { publicKeyInfoOfSpki, signingAlgorithm } from './key-spec.ts';
import { keyIdentifier } from './key-identifier.ts';
import type { San } from './san.ts';
import type { CryptoKey } from './web-crypto-types.ts';

/** Who signs: an existing CA (certificate + its private key), or the subject itself. */
export type IssuerSpec =
  | { readonly certificate: Certificate; readonly privateKey: CryptoKey }
  | { readonly selfSigned: CryptoKey };

/** Everything {@link issueCertificate} needs; times are parameters (no hidden clock). */
export interface IssueOptions {
  /** Subject common name; `''` for a SAN-only certificate (the SAN extension is then critical). */
  readonly subject: string;
  /** The subject's public key. */
  readonly publicKey: CryptoKey;
  readonly issuer: IssuerSpec;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints CA flag. Default false (and then no basicConstraints extension, as step's leaf). */
  readonly isCA?: boolean;
  /** basicConstraints pathLenConstraint; only with `isCA`. Default: unlimited. */
  readonly pathLen?: number;
  /** keyUsage names (`digitalSignature`, `keyCertSign`, …), critical. Default none. */
  readonly keyUsage?: readonly string[];
  /** extKeyUsage names (`serverAuth`, `clientAuth`) or OIDs. Default none. */
  readonly extKeyUsage?: readonly string[];
  /** Subject alternative names. Default none. */
  readonly sans?: readonly San[];
  /** Serial number in hex. Default: 128 random bits, positive. */
  readonly serialNumber?: string;
}

// A CSR's key arrives as a CryptoKey whose SPKI parseCsr already had; exporting it
// again costs a round trip through WebCrypto per leaf.
const spkiCache = new WeakMap<CryptoKey, Uint8Array>();

/** Remembers the SPKI of a public key (parseCsr calls this), so signing skips an export. */
export function rememberSpki(key: CryptoKey, spki: Uint8Array): void {
  spkiCache.set(key, spki);
}

async function spkiOf(key: CryptoKey): Promise<Uint8Array> {
  let spki = spkiCache.get(key);
  if (spki === undefined) {
    spki = new Uint8Array(await crypto.subtle.exportKey('spki', key));
    spkiCache.set(key, spki);
  }
  return spki;
}

/** What stays the same for every certificate one issuer signs: computed once. */
interface IssuerCache {
  readonly name: x509.Name;
  readonly aki: x509.Extension;
  readonly keyId: string;
}

// Identity signs a leaf per proxy per day from the same issuer: its name and key id
// are worth keeping (the ASN.1 work is ~30% of a signature). Weak, so rotated
// issuers are forgotten with their certificate objects.
const issuerCaches = new WeakMap<Certificate, IssuerCache>();
// Profiles repeat the same usage lists; their encoded extensions are immutable.
const extensionCache = new Map<string, x509.Extension>();

function cachedExtension(key: string, make: () => x509.Extension): x509.Extension {
  let ext = extensionCache.get(key);
  if (ext === undefined) {
    ext = make();
    extensionCache.set(key, ext);
  }
  return ext;
}

function issuerCache(cert: Certificate): IssuerCache {
  let cached = issuerCaches.get(cert);
  if (cached === undefined) {
    const { peculiar } = internalsOf(cert);
    const keyId = cert.subjectKeyId !== '' ? cert.subjectKeyId : keyIdentifier(cert.spki);
    cached = {
      // From the issuer's own encoding, so the child's issuer field is byte-equal
      // to the parent's subject whatever string types the parent used.
      name: new x509.Name(peculiar.subjectName.toArrayBuffer()),
      aki: new x509.AuthorityKeyIdentifierExtension(keyId, false),
      keyId,
    };
    issuerCaches.set(cert, cached);
  }
  return cached;
}

/** The subject name for a common name; `''` gives an empty subject (SAN-only). */
export function subjectName(cn: string): x509.Name {
  return new x509.Name(cn === '' ? [] : [{ CN: [cn] }]);
}

/** The subjectAltName extension for `sans`; RFC 5280 §4.2.1.6: critical when the subject is empty. */
export function sanExtension(sans: readonly San[], subject: string): x509.SubjectAlternativeNameExtension {
  const names = sans.map((s) => ({ type: s.type === 'uri' ? ('url' as const) : s.type, value: s.value }));
  return new x509.SubjectAlternativeNameExtension(names, subject === '');
}

function serialHex(given: string | undefined): string {
  if (given === undefined) {
    const bytes = randomBytes(16);
    // Never zero: a zero serial is invalid (RFC 5280 §4.1.2.2) and peculiar would replace it.
    if (bytes.every((b) => b === 0)) bytes[15] = 1;
    return bytes.toString('hex');
  }
  const clean = given.toLowerCase().replace(/:/g, '');
  if (!/^[0-9a-f]{1,40}$/.test(clean) || /^0*$/.test(clean)) {
    throw new PkiError(PkiErrorCode.badRequest, `Use a positive hex serial number of at most 20 bytes: cannot use "${given}"`);
  }
  return clean.length % 2 === 0 ? clean : `0${clean}`;
}

/**
 * Signs a certificate. The one signer behind every profile, CSR signing and the
 * certificate controller: it always adds subject and authority key identifiers,
 * and caches per-issuer work so that signing many leaves stays cheap.
 *
 * It does not check that the issuer's private key matches its certificate, nor
 * clamp validity to the issuer's: callers that take keys from users do that
 * (see `keyMatchesCertificate`), and the policy on validity is theirs.
 */
export async function issueCertificate(opts: IssueOptions): Promise<Certificate> {
  if (!(opts.notAfter.getTime() > opts.notBefore.getTime())) {
    throw new PkiError(
      PkiErrorCode.badRequest,
      `Set notAfter after notBefore: "${opts.notAfter.toISOString()}" is not after "${opts.notBefore.toISOString()}"`,
    );
  }
  if (opts.pathLen !== undefined && (opts.isCA !== true || !Number.isInteger(opts.pathLen) || opts.pathLen < 0)) {
    throw new PkiError(PkiErrorCode.badRequest, 'Give a path length only to a CA certificate, as a whole number of 0 or more');
  }
  const spki = await spkiOf(opts.publicKey);
  // Certificates hold whole seconds (RFC 5280 §4.1.2.5): round here so the returned
  // dates are the encoded ones.
  const notBefore = new Date(Math.floor(opts.notBefore.getTime() / 1000) * 1000);
  const notAfter = new Date(Math.floor(opts.notAfter.getTime() / 1000) * 1000);
  const subject = subjectName(opts.subject);
  const extensions: x509.Extension[] = [];
  if (opts.keyUsage !== undefined && opts.keyUsage.length > 0) {
    const flags = keyUsageFlags(opts.keyUsage);
    extensions.push(cachedExtension(`ku:${flags}`, () => new x509.KeyUsagesExtension(flags, true)));
  }
  if (opts.extKeyUsage !== undefined && opts.extKeyUsage.length > 0) {
    const oids = opts.extKeyUsage.map(extKeyUsageOid);
    extensions.push(cachedExtension(`eku:${oids.join(',')}`, () => new x509.ExtendedKeyUsageExtension(oids, false)));
  }
  if (opts.isCA === true) {
    const pathLen = opts.pathLen;
    extensions.push(cachedExtension(`bc:${pathLen ?? ''}`, () => new x509.BasicConstraintsExtension(true, pathLen, true)));
  }
  const ski = keyIdentifier(spki);
  extensions.push(new x509.SubjectKeyIdentifierExtension(ski, false));

  let issuerName: x509.Name;
  let signingKey: CryptoKey;
  if ('selfSigned' in opts.issuer) {
    issuerName = subject;
    signingKey = opts.issuer.selfSigned;
    extensions.push(new x509.AuthorityKeyIdentifierExtension(ski, false));
  } else {
    const cache = issuerCache(opts.issuer.certificate);
    issuerName = cache.name;
    signingKey = opts.issuer.privateKey;
    extensions.push(cache.aki);
  }
  if (opts.sans !== undefined && opts.sans.length > 0) extensions.push(sanExtension(opts.sans, opts.subject));
  const serialNumber = serialHex(opts.serialNumber);
  const sigAlg = signingAlgorithm(signingKey);
  const created = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    issuer: issuerName,
    notBefore,
    notAfter,
    publicKey: spki,
    signingKey: signingKey as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[0] extends { signingKey: infer K } ? K : never,
    signingAlgorithm: sigAlg,
    extensions,
  });
  const keyHash = (signingKey.algorithm as { hash?: { name: string } }).hash?.name;
  const selfSigned = 'selfSigned' in opts.issuer;
  const subjectText = subject.toString();
  return assembleCertificate({
    der: new Uint8Array(created.rawData),
    subject: subjectText,
    issuer: selfSigned ? subjectText : (opts.issuer as { certificate: Certificate }).certificate.subject,
    commonName: opts.subject,
    serialNumber: serialNumber.replace(/^(00)+(?=.)/, ''),
    notBefore,
    notAfter,
    isCA: opts.isCA === true,
    pathLen: opts.pathLen,
    keyUsage: Object.freeze(opts.keyUsage === undefined ? [] : keyUsageNames(keyUsageFlags(opts.keyUsage))),
    extKeyUsage: Object.freeze((opts.extKeyUsage ?? []).map((u) => extKeyUsageName(extKeyUsageOid(u)))),
    sans: Object.freeze([...(opts.sans ?? [])]),
    subjectKeyId: ski,
    authorityKeyId: selfSigned ? ski : issuerCache((opts.issuer as { certificate: Certificate }).certificate).keyId,
    publicKey: publicKeyInfoOfSpki(spki),
    spki,
    signatureAlgorithm: signatureAlgorithmName({ name: sigAlg.name, ...(keyHash !== undefined ? { hash: keyHash } : 'hash' in sigAlg ? { hash: String(sigAlg.hash) } : {}) }),
    selfSigned,
  });
}
