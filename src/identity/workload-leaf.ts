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
  for (const issuer of intermediates) {
    if (anchors.some((a) => a.raw.equals(child.raw))) return null;
    const problem = linkProblem(child, issuer);
    if (problem !== null) return problem;
    child = issuer;
  }
  if (anchors.some((a) => a.raw.equals(child.raw))) return null;
  const problems: string[] = [];
  for (const anchor of anchors) {
    const problem = linkProblem(child, anchor) ?? validityProblem(anchor, now);
    if (problem === null) return null;
    problems.push(problem);
  }
  return `no trust anchor issued ${name(child)}${problems.length === 0 ? ': the bundle holds none' : `: ${problems.join('; ')}`}`;
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

/**
 * The authority key identifier's keyIdentifier, hex, or '' (node:crypto does not
 * expose it): Certificate → tbsCertificate → [3] extensions → id-ce-authorityKeyIdentifier
 * → OCTET STRING → SEQUENCE → [0].
 */
function authorityKeyId(der: Buffer): string {
  try {
    const tbs = childrenOf(der, tlvAt(der, 0))[0];
    const extensions = tbs === undefined ? undefined : childrenOf(der, tbs).find((t) => t.tag === 0xa3);
    if (extensions === undefined) return '';
    for (const ext of childrenOf(der, childrenOf(der, extensions)[0] ?? { start: 0, end: 0 })) {
      const parts = childrenOf(der, ext);
      const id = parts[0];
      const value = parts[parts.length - 1];
      if (id === undefined || value === undefined || !der.subarray(id.start, id.end).equals(AKI_OID)) continue;
      const keyId = childrenOf(der, tlvAt(der, value.start)).find((t) => t.tag === 0x80);
      return keyId === undefined ? '' : der.subarray(keyId.start, keyId.end).toString('hex');
    }
  } catch {
    // node:crypto parsed the certificate, so this cannot be malformed; a key id is informational anyway.
  }
  return '';
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
  const problem = chainProblem(leaf, intermediates, pemCertificates(expect.trustAnchorsPem), expect.now)
    ?? (leaf.checkHost(expect.identity, { subject: 'never' }) === undefined ? `${name(leaf)} does not name "${expect.identity}" (SANs ${leaf.subjectAltName ?? 'none'})` : null);
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
