import { issueCertificate, parseCsr, type Certificate as X509, type CryptoKey } from '../pki/index.ts';
import type { Signer } from './issuers.ts';
import { x509Usages } from './usages.ts';

/** What a CertificateRequest asks for, decoded. */
export interface SignInput {
  readonly csrPem: string;
  /** Requested lifetime, ms. */
  readonly duration: number;
  readonly isCA: boolean;
  readonly usages: readonly string[] | undefined;
  /** The requester's private key: only a selfSigned issuer needs it (it signs with it). */
  readonly privateKey: CryptoKey | undefined;
}

/** A signed request: the leaf, what goes after it in tls.crt, and the root for ca.crt. */
export type SignResult =
  | {
      readonly ok: true;
      readonly certificate: X509;
      readonly intermediates: readonly X509[];
      readonly root: X509 | undefined;
      /** Set when notAfter was cut to the CA's notAfter. */
      readonly clampedTo: Date | undefined;
    }
  | { readonly ok: false; readonly message: string };

/**
 * Signs a CSR as a CA or SelfSigned issuer does. Unlike cert-manager, the result
 * never outlives its CA: notAfter is clamped to the CA's notAfter (and the caller
 * says so), because a certificate that outlives its issuer fails in the middle of
 * the night. notBefore is back-dated by `clockSkew` for peers whose clocks lag.
 */
export async function signRequest(
  input: SignInput,
  signer: Signer,
  options: { now: Date; clockSkew: number },
): Promise<SignResult> {
  const csr = await parseCsr(input.csrPem);
  if (!csr.signatureValid) return { ok: false, message: 'The CSR signature does not verify: the request was corrupted' };
  const now = options.now.getTime();
  const notBefore = new Date(now - options.clockSkew);
  let notAfter = new Date(now + input.duration);
  let clampedTo: Date | undefined;
  const { keyUsage, extKeyUsage } = x509Usages(input.usages, input.isCA);
  const common = {
    subject: csr.commonName,
    publicKey: csr.publicKey,
    notBefore,
    isCA: input.isCA,
    keyUsage,
    extKeyUsage,
    sans: csr.sans,
  };
  if (signer.kind === 'selfSigned') {
    if (input.privateKey === undefined) return { ok: false, message: 'A selfSigned issuer needs the private key of the request' };
    const certificate = await issueCertificate({ ...common, notAfter, issuer: { selfSigned: input.privateKey } });
    return { ok: true, certificate, intermediates: [], root: certificate, clampedTo };
  }
  if (notAfter.getTime() > signer.certificate.notAfter.getTime()) {
    notAfter = signer.certificate.notAfter;
    clampedTo = notAfter;
  }
  if (notAfter.getTime() <= notBefore.getTime()) {
    return { ok: false, message: `The CA "${signer.certificate.subject}" expires before the certificate could start` };
  }
  const certificate = await issueCertificate({
    ...common,
    notAfter,
    issuer: { certificate: signer.certificate, privateKey: signer.privateKey },
  });
  const intermediates = signer.certificate.selfSigned ? [] : [signer.certificate, ...signer.intermediates];
  return { ok: true, certificate, intermediates, root: signer.root, clampedTo };
}
