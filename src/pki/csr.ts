import { x509, crypto } from './x509-runtime.ts';
import { PkiError, PkiErrorCode } from './errors.ts';
import { signingAlgorithm, publicKeyInfoOfSpki, spkiToCryptoKey, type PublicKeyInfo } from './key-spec.ts';
import { asText, decodePem, looksLikePem, toPem } from './pem.ts';
import { sansOf, signatureName } from './certificate.ts';
import { rememberSpki, sanExtension, subjectName } from './issue-certificate.ts';
import type { San } from './san.ts';
import type { CryptoKey, CryptoKeyPair } from './web-crypto-types.ts';

/** A parsed PKCS#10 certificate signing request. */
export interface Csr {
  readonly der: Uint8Array;
  readonly pem: string;
  /** Subject distinguished name (`CN=…`). */
  readonly subject: string;
  /** The subject's common name, `''` when none. */
  readonly commonName: string;
  /** Requested subject alternative names (from the extensionRequest attribute). */
  readonly sans: readonly San[];
  /** The requested public key, ready to pass to `issueCertificate`. */
  readonly publicKey: CryptoKey;
  /** Algorithm, curve and size of the requested key. */
  readonly publicKeyInfo: PublicKeyInfo;
  /** The requested SubjectPublicKeyInfo (DER). */
  readonly spki: Uint8Array;
  /** Signature algorithm as step prints it (`ECDSA-SHA256`). */
  readonly signatureAlgorithm: string;
  /** The CSR is signed by the key it requests (proof of possession). */
  readonly signatureValid: boolean;
}

/** Makes a CSR for `subject` and `sans`, signed with the key pair's private key. */
export async function createCsr(opts: {
  subject: string;
  keyPair: CryptoKeyPair;
  sans?: readonly San[];
}): Promise<{ der: Uint8Array; pem: string }> {
  const extensions: x509.Extension[] = [];
  if (opts.sans !== undefined && opts.sans.length > 0) extensions.push(sanExtension(opts.sans, opts.subject));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(opts.subject),
    keys: opts.keyPair as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
    signingAlgorithm: signingAlgorithm(opts.keyPair.privateKey),
    extensions,
  }, crypto);
  const der = new Uint8Array(csr.rawData);
  return { der, pem: toPem(der, 'CERTIFICATE REQUEST') };
}

const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

/**
 * Parses a CSR (PEM or DER) and checks its signature. A bad signature is reported
 * in `signatureValid`, not thrown: the caller decides (identity refuses, inspect shows).
 */
export async function parseCsr(pemOrDer: string | Uint8Array): Promise<Csr> {
  let der: Uint8Array;
  if (looksLikePem(pemOrDer)) {
    const block = decodePem(asText(pemOrDer), 'certificate request').find((b) => CSR_LABELS.includes(b.label));
    if (block === undefined) throw new PkiError(PkiErrorCode.badPem, 'Give a PEM certificate request: no "CERTIFICATE REQUEST" block found');
    der = block.der;
  } else if (typeof pemOrDer !== 'string' && pemOrDer.length > 0) {
    der = pemOrDer;
  } else {
    throw new PkiError(PkiErrorCode.badPem, 'Give a PEM or DER certificate request: the input is empty');
  }
  try {
    return await parseCsrDer(der);
  } catch (err) {
    if (err instanceof PkiError) throw err;
    // ASN.1 and key-import failures deep inside a damaged CSR: one clear error.
    throw new PkiError(PkiErrorCode.badPem, 'Check the certificate request: it is not a valid PKCS#10 CSR', { cause: err });
  }
}

async function parseCsrDer(der: Uint8Array): Promise<Csr> {
  const req = new x509.Pkcs10CertificateRequest(der);
  const spki = new Uint8Array(req.publicKey.rawData);
  const publicKey = await spkiToCryptoKey(spki);
  rememberSpki(publicKey, spki);
  let signatureValid = false;
  try {
    signatureValid = await req.verify(crypto);
  } catch {
    signatureValid = false;
  }
  // '2.5.29.17' is subjectAltName; the extension factory gives the typed class.
  const ext = req.getExtension('2.5.29.17') as x509.SubjectAlternativeNameExtension | null;
  const copy = new Uint8Array(der);
  return Object.freeze({
    der: copy,
    pem: toPem(copy, 'CERTIFICATE REQUEST'),
    subject: req.subject,
    commonName: req.subjectName.getField('CN')[0] ?? '',
    sans: Object.freeze(ext === null ? [] : sansOf(ext)),
    publicKey,
    publicKeyInfo: publicKeyInfoOfSpki(spki),
    spki,
    signatureAlgorithm: signatureName(req.signatureAlgorithm as { name: string; hash?: { name: string } }),
    signatureValid,
  });
}
