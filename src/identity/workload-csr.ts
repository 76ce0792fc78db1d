/**
 * The workload's key and its one certificate signing request, with node:crypto and
 * a few lines of DER: PKCS#10 (RFC 2986), ECDSA P-256 signed with SHA-256, subject
 * `CN=<identity>` and exactly one DNS SAN, the identity, in an extensionRequest —
 * what the identity service checks (certify.ts `csrProblem`).
 *
 *   CertificationRequest ::= SEQUENCE {
 *     certificationRequestInfo SEQUENCE {
 *       version INTEGER 0, subject Name, subjectPKInfo SubjectPublicKeyInfo,
 *       attributes [0] IMPLICIT SET OF { extensionRequest: SET { Extensions } } },
 *     signatureAlgorithm ecdsa-with-SHA256, signature BIT STRING }
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bitString, contextConstructed, contextPrimitive, integer, octetString, oid, sequence, set, utf8String } from './der-writer.ts';

const OID_COMMON_NAME = '2.5.4.3';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
/** GeneralName `dNSName [2] IMPLICIT IA5String`. */
const DNS_NAME_TAG = 2;

/** A workload's key pair and the CSR for its identity. */
export interface WorkloadCsr {
  /** The private key, PKCS#8 PEM; it never leaves the process. */
  readonly keyPem: string;
  /** The public key's SubjectPublicKeyInfo, DER: what the issued leaf must carry. */
  readonly spki: Buffer;
  /** The CSR, DER. */
  readonly der: Buffer;
}

/**
 * Makes a fresh P-256 key and a CSR for `identity` (subject CN and the only DNS
 * SAN). `identity` is an identity name, so ASCII; IA5String takes nothing else.
 */
export function workloadCsr(identity: string): WorkloadCsr {
  if (!/^[\x21-\x7e]+$/.test(identity)) throw new RangeError(`Cannot put "${identity}" in a DNS SAN: use printable ASCII`);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, spki, der: signedRequest(identity, spki, privateKey) };
}

function signedRequest(identity: string, spki: Buffer, privateKey: KeyObject): Buffer {
  const subject = sequence(set(sequence(oid(OID_COMMON_NAME), utf8String(identity))));
  const san = sequence(oid(OID_SUBJECT_ALT_NAME), octetString(sequence(contextPrimitive(DNS_NAME_TAG, Buffer.from(identity, 'ascii')))));
  const attributes = contextConstructed(0, sequence(oid(OID_EXTENSION_REQUEST), set(sequence(san))));
  const info = sequence(integer(0), subject, spki, attributes);
  // node:crypto signs ECDSA as a DER Ecdsa-Sig-Value by default, which is what X.509 wants.
  const signature = sign('sha256', info, privateKey);
  return sequence(info, sequence(oid(OID_ECDSA_WITH_SHA256)), bitString(signature));
}
