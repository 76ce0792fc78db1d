/**
 * What the identity client does with a Certify answer: reads the leaf and its
 * issuers with node:crypto's X509Certificate and checks them before serving them
 * — for our key, naming our identity, valid now, each certificate issued and
 * signed by the next up to one of our trust anchors. Trust, but verify: the
 * channel already authenticated the service, this catches a service that is wrong.
 *
 * node:crypto rather than src/pki: the sidecar keeps no ASN.1 library resident for
 * one check every ~17 hours (~7 MB per sidecar, bench/README.md).
 */
import { X509Certificate } from 'node:crypto';
import { WeftError } from '../errors/index.ts';
import type { CertifyResponse } from './wire.ts';

/** The workload's leaf certificate, as the identity client hands it out. */
export interface WorkloadLeaf {
  /** The certificate exactly as issued (DER). */
  readonly der: Uint8Array;
  /** The certificate as one PEM block; `certChainPem` starts with it. */
  readonly pem: string;
  /** Serial number, lower-case hex without leading zero bytes (as src/pki writes it). */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Authority key identifier, lower-case hex (`''` when absent): which issuer key signed it. */
  readonly authorityKeyId: string;
  /** The SubjectPublicKeyInfo (DER). */
  readonly spki: Uint8Array;
}

/** What {@link checkCertifyResponse} checks against. */
export interface CertifyExpectation {
  /** Our public key's SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  /** Our identity: the leaf must name it as a DNS SAN. */
  readonly identity: string;
  /** Trust anchors, PEM. */
  readonly trustAnchorsPem: string;
  readonly now: Date;
}

/** A checked Certify answer. */
export interface CheckedCertificate {
  readonly leaf: WorkloadLeaf;
  /** Leaf then intermediates, PEM. */
  readonly certChainPem: string;
}

// A chain longer than this is a loop or an attack; meshes use one intermediate.
const MAX_INTERMEDIATES = 8;

const fail = (message: string): WeftError => new WeftError('WEFT_ERR_IDENTITY_RESPONSE', message);
const name = (c: X509Certificate): string => `"${c.subject.replaceAll('\n', ', ')}"`;

function parse(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw fail(`Certify returned ${what} that is not a DER certificate: ${(err as Error).message}`);
  }
}

/** Every certificate of a PEM bundle (other blocks and text between them are ignored). */
function pemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/** Why `child` is not issued by `issuer` (names, key ids, keyCertSign, CA flag, signature), or null. */
function linkProblem(child: X509Certificate, issuer: X509Certificate): string | null {
  if (!child.checkIssued(issuer)) return `${name(issuer)} did not issue ${name(child)} (names, key identifiers or keyUsage do not match)`;
  if (!issuer.ca) return `${name(issuer)} is not a CA but issued ${name(child)}`;
  if (!child.verify(issuer.publicKey)) return `the signature of ${name(child)} does not verify with the key of ${name(issuer)}`;
  return null;
}

/** Why `cert` is not valid at `now`, or null. */
function validityProblem(cert: X509Certificate, now: Date): string | null {
  if (now < cert.validFromDate) return `${name(cert)} is not valid until ${cert.validFromDate.toISOString()} (checked at ${now.toISOString()})`;
  if (now > cert.validToDate) return `${name(cert)} expired at ${cert.validToDate.toISOString()} (checked at ${now.toISOString()})`;
  return null;
}

/** Why the chain from `leaf` through `intermediates` does not reach one of `anchors` validly at `now`, or null. */
function chainProblem(leaf: X509Certificate, intermediates: readonly X509Certificate[], anchors: readonly X509Certificate[], now: Date): string | null {
  if (intermediates.length > MAX_INTERMEDIATES) return `the chain has ${intermediates.length} intermediates, more than ${MAX_INTERMEDIATES}`;
  let child = leaf;
  for (const cert of [leaf, ...intermediates]) {
    const problem = validityProblem(cert, now);
    if (problem !== null) return problem;
  }
  // The path from the leaf up, for the path length check once it reaches an anchor.
  const path = [leaf];
  for (const issuer of intermediates) {
    if (anchors.some((a) => a.raw.equals(child.raw))) return pathLengthProblem(path);
    const problem = linkProblem(child, issuer);
    if (problem !== null) return problem;
    path.push(issuer);
    child = issuer;
  }
  if (anchors.some((a) => a.raw.equals(child.raw))) return pathLengthProblem(path);
  const problems: string[] = [];
  for (const anchor of anchors) {
    const problem = linkProblem(child, anchor) ?? validityProblem(anchor, now);
    if (problem === null) return pathLengthProblem([...path, anchor]);
    problems.push(problem);
  }
  return `no trust anchor issued ${name(child)}${problems.length === 0 ? ': the bundle holds none' : `: ${problems.join('; ')}`}`;
}

/**
 * Why a CA on `path` (leaf first, anchor last) has more intermediates below it
 * than its basicConstraints pathLenConstraint allows (RFC 5280 6.1.4 (l)-(m):
 * self-issued intermediates do not count), or null. node:crypto's checkIssued and
 * verify look at one link at a time, so this is ours to check, as openssl verify does.
 */
function pathLengthProblem(path: readonly X509Certificate[]): string | null {
  let below = 0;
  for (let i = 1; i < path.length; i++) {
    const ca = path[i] as X509Certificate;
    const pathLen = pathLenConstraint(ca.raw);
    if (pathLen === 'unreadable') return `the basicConstraints of ${name(ca)} cannot be read`;
    if (pathLen !== undefined && below > pathLen) {
      return `${name(ca)} allows ${pathLen} intermediate${pathLen === 1 ? '' : 's'} below it (pathlen) but ${below} follow${below === 1 ? 's' : ''} it`;
    }
    if (ca.subject !== ca.issuer) below++;
  }
  return null;
}

/** Why `leaf` is not a workload leaf for `identity` (a CA, another usage, other DNS names), or null. */
function leafProblem(leaf: X509Certificate, identity: string): string | null {
  if (leaf.ca) return `${name(leaf)} is a CA certificate (basicConstraints CA:TRUE), not a workload leaf`;
  // node:crypto's keyUsage is the extended key usage OIDs, undefined (its types say
  // otherwise) when the extension is absent, which allows any usage.
  const eku = leaf.keyUsage as string[] | undefined;
  if (eku !== undefined) {
    const missing = [[SERVER_AUTH, 'serverAuth'], [CLIENT_AUTH, 'clientAuth']].filter(([oid]) => !eku.includes(oid as string)).map(([, n]) => n);
    if (missing.length > 0) return `${name(leaf)} is not for ${missing.join(' and ')} (extended key usage ${eku.join(', ')})`;
  }
  // Exact names, not checkHost: it matches wildcards, partial ones (web*.…) included.
  // The identity service issues one DNS name, the identity.
  const dns = dnsNames(leaf.raw);
  if (dns === undefined) return `the subjectAltName of ${name(leaf)} cannot be read`;
  if (dns.length !== 1 || dns[0] !== identity) {
    return `${name(leaf)} does not name "${identity}" as its one DNS SAN (DNS SANs ${dns.length === 0 ? 'none' : dns.map((d) => `"${d}"`).join(', ')})`;
  }
  return null;
}

/** One DER TLV at `at`: its tag and where its content starts and ends. */
function tlvAt(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at] as number;
  let len = der[at + 1] as number;
  let start = at + 2;
  if (len >= 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] as number);
    start += n;
  }
  if (start + len > der.length) throw new RangeError('truncated DER');
  return { tag, start, end: start + len };
}

/** The children of the constructed TLV `parent`. */
function childrenOf(der: Buffer, parent: { start: number; end: number }): Array<{ tag: number; start: number; end: number }> {
  const out = [];
  for (let at = parent.start; at < parent.end;) {
    const t = tlvAt(der, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

const AKI_OID = Buffer.from([0x55, 0x1d, 0x23]);
const BASIC_CONSTRAINTS_OID = Buffer.from([0x55, 0x1d, 0x13]);
const SAN_OID = Buffer.from([0x55, 0x1d, 0x11]);
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * Where the extnValue (the OCTET STRING's content) of extension `oid` lies, or
 * undefined when the certificate has none: Certificate → tbsCertificate → [3]
 * extensions → Extension {extnID, critical?, extnValue}. Throws on malformed DER.
 */
function extensionValue(der: Buffer, oid: Buffer): { start: number; end: number } | undefined {
  const tbs = childrenOf(der, tlvAt(der, 0))[0];
  const extensions = tbs === undefined ? undefined : childrenOf(der, tbs).find((t) => t.tag === 0xa3);
  if (extensions === undefined) return undefined;
  for (const ext of childrenOf(der, childrenOf(der, extensions)[0] ?? { start: 0, end: 0 })) {
    const parts = childrenOf(der, ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id !== undefined && value !== undefined && der.subarray(id.start, id.end).equals(oid)) return value;
  }
  return undefined;
}

/**
 * The authority key identifier's keyIdentifier, hex, or '' (node:crypto does not
 * expose it): the extension's SEQUENCE → [0].
 */
function authorityKeyId(der: Buffer): string {
  try {
    const value = extensionValue(der, AKI_OID);
    if (value === undefined) return '';
    const keyId = childrenOf(der, tlvAt(der, value.start)).find((t) => t.tag === 0x80);
    return keyId === undefined ? '' : der.subarray(keyId.start, keyId.end).toString('hex');
  } catch {
    // node:crypto parsed the certificate, so this cannot be malformed; a key id is informational anyway.
  }
  return '';
}

/**
 * basicConstraints' pathLenConstraint (node:crypto does not expose it): SEQUENCE
 * {cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL}; undefined when
 * absent (no limit), 'unreadable' when the DER is not that.
 */
function pathLenConstraint(der: Buffer): number | undefined | 'unreadable' {
  try {
    const value = extensionValue(der, BASIC_CONSTRAINTS_OID);
    if (value === undefined) return undefined;
    const int = childrenOf(der, tlvAt(der, value.start)).find((t) => t.tag === 0x02);
    if (int === undefined) return undefined;
    const bytes = der.subarray(int.start, int.end);
    // A negative or absurd length is malformed; a mesh CA's is a small number.
    if (bytes.length === 0 || bytes.length > 4 || ((bytes[0] as number) & 0x80) !== 0) return 'unreadable';
    return bytes.readUIntBE(0, bytes.length);
  } catch {
    return 'unreadable';
  }
}

/**
 * The subjectAltName's dNSName entries ([2] IA5String), exactly as written
 * (node:crypto's subjectAltName is a display string); undefined when the DER is
 * not a GeneralNames SEQUENCE.
 */
function dnsNames(der: Buffer): string[] | undefined {
  try {
    const value = extensionValue(der, SAN_OID);
    if (value === undefined) return [];
    return childrenOf(der, tlvAt(der, value.start)).filter((t) => t.tag === 0x82).map((t) => der.subarray(t.start, t.end).toString('latin1'));
  } catch {
    return undefined;
  }
}

/**
 * Reads and checks a Certify answer; throws a WeftError (`WEFT_ERR_IDENTITY_RESPONSE`)
 * saying what is wrong with it.
 */
export function checkCertifyResponse(response: CertifyResponse, expect: CertifyExpectation): CheckedCertificate {
  if (response.leafCertificate.length === 0) throw fail('Certify returned no certificate');
  const leaf = parse(response.leafCertificate, 'a leaf');
  const intermediates = response.intermediateCertificates.map((der, i) => parse(der, `intermediate ${i + 1}`));
  const spki = leaf.publicKey.export({ type: 'spki', format: 'der' });
  if (!spki.equals(Buffer.from(expect.spki))) throw fail('Certify returned a certificate for another key');
  const problem = chainProblem(leaf, intermediates, pemCertificates(expect.trustAnchorsPem), expect.now) ?? leafProblem(leaf, expect.identity);
  if (problem !== null) throw fail(`Certify returned a certificate that does not verify: ${problem}`);
  const pem = leaf.toString();
  return {
    leaf: {
      der: leaf.raw,
      pem,
      serialNumber: leaf.serialNumber.toLowerCase(),
      notBefore: leaf.validFromDate,
      notAfter: leaf.validToDate,
      authorityKeyId: authorityKeyId(leaf.raw),
      spki,
    },
    certChainPem: pem + intermediates.map((c) => c.toString()).join(''),
  };
}
