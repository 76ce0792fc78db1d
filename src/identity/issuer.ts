/**
 * The identity issuer: an intermediate CA certificate, its key and the chain up to
 * (not including) a trust anchor, loaded from a Secret and checked before use.
 * Pure: the Secret, the anchors and `now` in, a decision out.
 */
import type { Secret } from '../api/index.ts';
import {
  importPrivateKey, keyMatchesCertificate, parseCertificates, verifyChain, type Certificate, type CryptoKey,
} from '../pki/index.ts';
import { issuerSecretKeys, type IssuerScheme } from './config.ts';

/** A usable issuer. */
export interface Issuer {
  /** The certificate that signs leaves. */
  readonly certificate: Certificate;
  /** `certificate` then any further intermediates, as sent to clients (never the anchor). */
  readonly chain: readonly Certificate[];
  /** The issuer's private key (WebCrypto). */
  readonly privateKey: CryptoKey;
  /** The earliest notAfter along the chain: no leaf may outlive it. */
  readonly notAfter: Date;
}

/** Why an issuer Secret was refused; each is an Event reason suffix and a metric label. */
export const IssuerRefusal = {
  missing: 'missing',
  malformed: 'malformed',
  notCa: 'not-ca',
  keyMismatch: 'key-mismatch',
  expired: 'expired',
  notYetValid: 'not-yet-valid',
  untrusted: 'untrusted',
  noAnchors: 'no-anchors',
} as const;

/** One of the {@link IssuerRefusal} values. */
export type IssuerRefusal = (typeof IssuerRefusal)[keyof typeof IssuerRefusal];

/** The outcome of {@link loadIssuer} and {@link checkIssuer}. */
export type IssuerLoad =
  | { kind: 'valid'; issuer: Issuer }
  | { kind: 'invalid'; reason: IssuerRefusal; message: string };

function decoded(secret: Secret, key: string): string | undefined {
  const b64 = secret.data?.[key];
  return b64 === undefined || b64 === '' ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}

/**
 * Reads and checks an issuer Secret: the data keys of `scheme` are present, the
 * first certificate is a CA that may sign certificates, the key matches it, and the
 * chain leads to one of `anchors` with every certificate valid at `now`.
 */
export async function loadIssuer(secret: Secret | undefined, anchors: readonly Certificate[], now: Date, scheme: IssuerScheme): Promise<IssuerLoad> {
  if (secret === undefined) return { kind: 'invalid', reason: IssuerRefusal.missing, message: 'issuer Secret does not exist' };
  const { crt: crtKey, key: keyKey } = issuerSecretKeys(scheme);
  const crtPem = decoded(secret, crtKey);
  const keyPem = decoded(secret, keyKey);
  if (crtPem === undefined || keyPem === undefined) {
    return {
      kind: 'invalid', reason: IssuerRefusal.missing,
      message: `issuer Secret of scheme "${scheme}" must hold "${crtKey}" and "${keyKey}"`,
    };
  }
  let chain: Certificate[];
  let privateKey: CryptoKey;
  try {
    chain = parseCertificates(crtPem);
    privateKey = (await importPrivateKey(keyPem)).privateKey;
  } catch (err) {
    return { kind: 'invalid', reason: IssuerRefusal.malformed, message: `cannot read "${crtKey}" or "${keyKey}": ${(err as Error).message}` };
  }
  const certificate = chain[0] as Certificate;
  if (!(await keyMatchesCertificate(privateKey, certificate))) {
    return { kind: 'invalid', reason: IssuerRefusal.keyMismatch, message: `"${keyKey}" does not match the certificate in "${crtKey}"` };
  }
  return checkIssuer({ certificate, chain, privateKey, notAfter: earliestNotAfter(chain) }, anchors, now);
}

function earliestNotAfter(chain: readonly Certificate[]): Date {
  return new Date(Math.min(...chain.map((c) => c.notAfter.getTime())));
}

/**
 * Is `issuer` fit to sign at `now` under `anchors`? Run on every load, whenever the
 * anchors change, and before every signature (expiry), so an issuer that stopped
 * chaining or expired is never used.
 */
export function checkIssuer(issuer: Issuer, anchors: readonly Certificate[], now: Date): IssuerLoad {
  const cert = issuer.certificate;
  if (!cert.isCA || (cert.keyUsage.length > 0 && !cert.keyUsage.includes('keyCertSign'))) {
    return { kind: 'invalid', reason: IssuerRefusal.notCa, message: `certificate "${cert.subject}" is not a CA that may sign certificates` };
  }
  if (now.getTime() > issuer.notAfter.getTime()) {
    return { kind: 'invalid', reason: IssuerRefusal.expired, message: `issuer chain expired at ${issuer.notAfter.toISOString()}` };
  }
  if (now.getTime() < cert.notBefore.getTime()) {
    return { kind: 'invalid', reason: IssuerRefusal.notYetValid, message: `issuer is not valid before ${cert.notBefore.toISOString()}` };
  }
  if (anchors.length === 0) return { kind: 'invalid', reason: IssuerRefusal.noAnchors, message: 'no trust anchors are configured' };
  const verdict = verifyChain(cert, { roots: anchors, intermediates: issuer.chain.slice(1), at: now });
  if (verdict.kind === 'invalid') {
    const reason = verdict.code === 'expired' ? IssuerRefusal.expired
      : verdict.code === 'not-yet-valid' ? IssuerRefusal.notYetValid : IssuerRefusal.untrusted;
    return { kind: 'invalid', reason, message: `issuer does not chain to the trust anchors: ${verdict.reason}` };
  }
  // An anchor issuing leaves directly is allowed by X.509 but not by this design: the
  // anchor's key stays offline. The chain we send stops below the anchor.
  const chain = issuer.chain.filter((c) => !anchors.some((a) => Buffer.from(a.der).equals(Buffer.from(c.der))));
  if (chain.length === 0) {
    return { kind: 'invalid', reason: IssuerRefusal.untrusted, message: 'issuer is itself a trust anchor: issue an intermediate from it' };
  }
  return { kind: 'valid', issuer: { ...issuer, chain, notAfter: earliestNotAfter([...chain, ...verdict.chain]) } };
}
