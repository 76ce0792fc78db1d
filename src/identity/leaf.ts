/**
 * The workload certificate identity signs: 24 h by default, notBefore back-dated by
 * the clock-skew allowance, never outliving the issuer, with the identity's DNS SAN
 * and SPIFFE URI SAN, for both ends of mTLS.
 */
import { issueCertificate, type Certificate, type CryptoKey } from '../pki/index.ts';
import type { Issuer } from './issuer.ts';
import { identityName, spiffeId, type IdentityDomain, type ServiceAccountRef } from './names.ts';

/** Inputs of {@link issueLeaf}. */
export interface LeafOptions {
  readonly serviceAccount: ServiceAccountRef;
  readonly domain: IdentityDomain;
  /** The requester's public key (WebCrypto, from its CSR). */
  readonly publicKey: CryptoKey;
  readonly now: Date;
  readonly lifetimeMs: number;
  readonly clockSkewMs: number;
}

/** Signs a workload leaf with `issuer`. */
export async function issueLeaf(issuer: Issuer, opts: LeafOptions): Promise<Certificate> {
  const name = identityName(opts.serviceAccount, opts.domain);
  const notAfter = Math.min(opts.now.getTime() + opts.lifetimeMs, issuer.notAfter.getTime());
  return issueCertificate({
    subject: name,
    publicKey: opts.publicKey,
    issuer: { certificate: issuer.certificate, privateKey: issuer.privateKey },
    notBefore: new Date(opts.now.getTime() - opts.clockSkewMs),
    notAfter: new Date(notAfter),
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['serverAuth', 'clientAuth'],
    sans: [{ type: 'dns', value: name }, { type: 'uri', value: spiffeId(opts.serviceAccount, opts.domain) }],
  });
}
