import { createHash, X509Certificate as NodeX509 } from 'node:crypto';
import { x509 } from './x509-runtime.ts';
import { PkiError, PkiErrorCode } from './errors.ts';
import { publicKeyInfoOfSpki, type PublicKeyInfo } from './key-spec.ts';
import { asText, decodePem, looksLikePem, toPem } from './pem.ts';
import { canonicalIp, type San } from './san.ts';

function canonicalIpOrSame(text: string): string {
  try {
    return canonicalIp(text);
  } catch {
    return text;
  }
}

/**
 * A parsed X.509 certificate as plain read-only data. Every part of weft passes
 * these around; the ASN.1 objects behind them stay inside src/pki.
 */
export interface Certificate {
  /** The certificate exactly as encoded (DER). */
  readonly der: Uint8Array;
  /** The certificate as one PEM block (`CERTIFICATE`). */
  readonly pem: string;
  /** Subject distinguished name, OpenSSL-like (`CN=root.linkerd.cluster.local`). */
  readonly subject: string;
  /** Issuer distinguished name, same form as `subject`. */
  readonly issuer: string;
  /** The subject's common name, or `''` when it has none. */
  readonly commonName: string;
  /** Serial number, lower-case hex without leading zero bytes. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** basicConstraints CA flag (false when the extension is absent). */
  readonly isCA: boolean;
  /** basicConstraints pathLenConstraint, when set. */
  readonly pathLen: number | undefined;
  /** keyUsage bits by RFC 5280 name (`digitalSignature`, `keyCertSign`, …); `[]` when absent. */
  readonly keyUsage: readonly string[];
  /** extKeyUsage by name (`serverAuth`, `clientAuth`, …) or OID when unnamed. */
  readonly extKeyUsage: readonly string[];
  /** Subject alternative names of the types weft knows. */
  readonly sans: readonly San[];
  /** Subject key identifier, lower-case hex, `''` when absent. */
  readonly subjectKeyId: string;
  /** Authority key identifier (keyIdentifier field), lower-case hex, `''` when absent. */
  readonly authorityKeyId: string;
  /** Algorithm, curve and size of the subject's public key. */
  readonly publicKey: PublicKeyInfo;
  /** The SubjectPublicKeyInfo (DER), to compare keys or import the public key. */
  readonly spki: Uint8Array;
  /** Signature algorithm as step prints it (`ECDSA-SHA256`, `SHA256-RSA`, `Ed25519`). */
  readonly signatureAlgorithm: string;
  /** Subject equals issuer and the certificate's own key verifies its signature. */
  readonly selfSigned: boolean;
}

/** What we keep behind a {@link Certificate} to avoid parsing it twice. */
export interface CertificateInternals {
  readonly peculiar: x509.X509Certificate;
  readonly node: NodeX509;
  /** Canonical (re-encoded) subject and issuer names, for issuer matching. */
  readonly subjectKey: string;
  readonly issuerKey: string;
}

const internals = new WeakMap<Certificate, CertificateInternals>();

/** The parsed objects behind `cert`, re-parsing when `cert` was built by hand. */
export function internalsOf(cert: Certificate): CertificateInternals {
  const known = internals.get(cert);
  if (known !== undefined) return known;
  const parsed = parseDer(cert.der);
  const found = internals.get(parsed) as CertificateInternals;
  internals.set(cert, found);
  return found;
}

const KEY_USAGE_NAMES: ReadonlyArray<[number, string]> = [
  [1, 'digitalSignature'],
  [2, 'nonRepudiation'],
  [4, 'keyEncipherment'],
  [8, 'dataEncipherment'],
  [16, 'keyAgreement'],
  [32, 'keyCertSign'],
  [64, 'cRLSign'],
  [128, 'encipherOnly'],
  [256, 'decipherOnly'],
];

/** keyUsage names to the bit flags of the extension. */
export function keyUsageFlags(names: readonly string[]): number {
  let flags = 0;
  for (const name of names) {
    const bit = KEY_USAGE_NAMES.find(([, n]) => n === name);
    if (bit === undefined) {
      throw new PkiError(PkiErrorCode.badRequest, `Use RFC 5280 key usage names such as "digitalSignature": unknown "${name}"`);
    }
    flags |= bit[0];
  }
  return flags;
}

/** keyUsage bit flags to their names, in RFC 5280 bit order. */
export function keyUsageNames(flags: number): string[] {
  return KEY_USAGE_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, n]) => n);
}

const EKU_OIDS: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
};

/** An extKeyUsage name (`serverAuth`) or dotted OID to its OID. */
export function extKeyUsageOid(name: string): string {
  const oid = EKU_OIDS[name] ?? (/^\d+(\.\d+)+$/.test(name) ? name : undefined);
  if (oid === undefined) {
    throw new PkiError(PkiErrorCode.badRequest, `Use extended key usage names such as "serverAuth" or an OID: unknown "${name}"`);
  }
  return oid;
}

/** The name of an extKeyUsage OID (`serverAuth`), or the OID when it has none. */
export function extKeyUsageName(oid: string): string {
  return Object.entries(EKU_OIDS).find(([, o]) => o === oid)?.[0] ?? oid;
}

const SIGNATURE_NAMES: Record<string, string> = {
  'ECDSA/SHA-256': 'ECDSA-SHA256',
  'ECDSA/SHA-384': 'ECDSA-SHA384',
  'ECDSA/SHA-512': 'ECDSA-SHA512',
  'RSASSA-PKCS1-v1_5/SHA-256': 'SHA256-RSA',
  'RSASSA-PKCS1-v1_5/SHA-384': 'SHA384-RSA',
  'RSASSA-PKCS1-v1_5/SHA-512': 'SHA512-RSA',
  'Ed25519/': 'Ed25519',
};

/** A signature algorithm as @peculiar/x509 reports it, named as step prints it. */
export function signatureName(alg: { name: string; hash?: { name: string } }): string {
  const key = `${alg.name}/${alg.hash?.name ?? ''}`;
  return SIGNATURE_NAMES[key] ?? (alg.hash ? `${alg.name}-${alg.hash.name}` : alg.name);
}

/** Lower-case hex of bytes. */
export function hex(bytes: ArrayBuffer | Uint8Array): string {
  return Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex');
}

/** The SANs of a subjectAltName extension (certificate or CSR), of the types weft knows. */
export function sansOf(ext: x509.SubjectAlternativeNameExtension): San[] {
  const sans: San[] = [];
  for (const name of ext.names.items) {
    if (name.type === 'dns') sans.push({ type: 'dns', value: name.value });
    else if (name.type === 'ip') sans.push({ type: 'ip', value: canonicalIpOrSame(name.value) });
    else if (name.type === 'url') sans.push({ type: 'uri', value: name.value });
    else if (name.type === 'email') sans.push({ type: 'email', value: name.value });
  }
  return sans;
}

function parseDer(der: Uint8Array): Certificate {
  try {
    return parseDerUnchecked(der);
  } catch (err) {
    if (err instanceof PkiError) throw err;
    // ASN.1 and OpenSSL failures deep inside a damaged certificate: one clear error.
    throw new PkiError(PkiErrorCode.badPem, 'Check the certificate file: it is not a valid X.509 certificate', { cause: err });
  }
}

function parseDerUnchecked(der: Uint8Array): Certificate {
  const peculiar = new x509.X509Certificate(der);
  const node = new NodeX509(der);
  // `extensions` re-parses every extension on each access (and getExtension uses
  // it): read them once and pick by class.
  const exts = peculiar.extensions;
  const pick = <T>(type: abstract new (...args: never[]) => T): T | undefined => exts.find((e): e is x509.Extension & T => e instanceof type);
  const basic = pick(x509.BasicConstraintsExtension);
  const ku = pick(x509.KeyUsagesExtension);
  const eku = pick(x509.ExtendedKeyUsageExtension);
  const ski = pick(x509.SubjectKeyIdentifierExtension);
  const aki = pick(x509.AuthorityKeyIdentifierExtension);
  const san = pick(x509.SubjectAlternativeNameExtension);
  const spki = new Uint8Array(peculiar.publicKey.rawData);
  const subjectKey = hex(peculiar.subjectName.toArrayBuffer());
  const issuerKey = hex(peculiar.issuerName.toArrayBuffer());
  let selfSigned = false;
  if (subjectKey === issuerKey) {
    try {
      selfSigned = node.verify(node.publicKey);
    } catch {
      selfSigned = false;
    }
  }
  const copy = new Uint8Array(der);
  const cert: Certificate = Object.freeze({
    der: copy,
    pem: toPem(copy, 'CERTIFICATE'),
    subject: peculiar.subject,
    issuer: peculiar.issuer,
    commonName: peculiar.subjectName.getField('CN')[0] ?? '',
    serialNumber: peculiar.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ''),
    notBefore: peculiar.notBefore,
    notAfter: peculiar.notAfter,
    isCA: basic?.ca ?? false,
    pathLen: basic?.pathLength,
    keyUsage: Object.freeze(ku === undefined ? [] : keyUsageNames(ku.usages)),
    extKeyUsage: Object.freeze(eku === undefined ? [] : Array.from(eku.usages, (u) => extKeyUsageName(String(u)))),
    sans: Object.freeze(san === undefined ? [] : sansOf(san)),
    subjectKeyId: ski?.keyId.toLowerCase() ?? '',
    authorityKeyId: aki?.keyId?.toLowerCase() ?? '',
    publicKey: publicKeyInfoOfSpki(spki),
    spki,
    signatureAlgorithm: signatureName(peculiar.signatureAlgorithm as { name: string; hash?: { name: string } }),
    selfSigned,
  });
  internals.set(cert, { peculiar, node, subjectKey, issuerKey });
  return cert;
}

/**
 * Parses every certificate in a PEM bundle, or one DER certificate. Non-certificate
 * PEM blocks are refused (a key in a certificate file is a mistake worth naming).
 * Throws a PkiError `WEFT_ERR_PKI_BAD_PEM` on damaged or empty input.
 */
export function parseCertificates(pemOrDer: string | Uint8Array): Certificate[] {
  if (!looksLikePem(pemOrDer)) {
    if (typeof pemOrDer === 'string' || pemOrDer.length === 0) {
      throw new PkiError(PkiErrorCode.badPem, 'Give a PEM or DER certificate: the input holds no certificate');
    }
    return [parseDer(pemOrDer)];
  }
  const blocks = decodePem(asText(pemOrDer), 'certificate');
  if (blocks.length === 0) throw new PkiError(PkiErrorCode.badPem, 'Give a PEM certificate: no PEM block found');
  return blocks.map((b) => {
    if (b.label !== 'CERTIFICATE') {
      throw new PkiError(PkiErrorCode.badPem, `Give a certificate: found a "${b.label}" PEM block instead`);
    }
    return parseDer(b.der);
  });
}

/** SHA-256 of the DER, lower-case hex without separators, as `step certificate fingerprint` prints it. */
export function fingerprint(cert: Certificate): string {
  return createHash('sha256').update(cert.der).digest('hex');
}

/**
 * A certificate the signer just made, from the fields it already knows: parsing
 * our own output again would cost more than signing it. The parsed objects behind
 * it are made on first use by {@link internalsOf}.
 */
export function assembleCertificate(fields: Omit<Certificate, 'pem'>): Certificate {
  return Object.freeze({ ...fields, pem: toPem(fields.der, 'CERTIFICATE') });
}

/** Signature algorithm names for a WebCrypto signing algorithm, as step prints them. */
export function signatureAlgorithmName(alg: { name: string; hash?: string }): string {
  return signatureName({ name: alg.name, ...(alg.hash === undefined ? {} : { hash: { name: alg.hash } }) });
}
