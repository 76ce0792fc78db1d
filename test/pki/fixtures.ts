/**
 * In-memory chains made with the library, for tests that need many certificates
 * with chosen dates and constraints (faster than the CLI, same signer).
 */
import {
  exportPrivateKey,
  generateKeyPair,
  issueCertificate,
  parseSan,
  type Certificate,
  type CryptoKey,
  type KeySpec,
} from '../../src/pki/index.ts';

/** A certificate with the private key that goes with it. */
export interface Issued {
  readonly cert: Certificate;
  readonly privateKey: CryptoKey;
  /** PKCS#8 PEM of the private key (for node:tls and openssl). */
  keyPem(): Promise<string>;
}

const HOUR = 3_600_000;

/** Options of {@link make}; anything not given takes a leaf's defaults. */
export interface MakeOptions {
  readonly cn: string;
  /** Who signs; the certificate signs itself when absent. */
  readonly by?: Issued;
  readonly ca?: boolean;
  readonly pathLen?: number;
  readonly keyUsage?: readonly string[];
  readonly extKeyUsage?: readonly string[];
  readonly sans?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly key?: KeySpec;
}

/** Issues one certificate; `at` is the reference time (validity ±1 day around it by default). */
export async function make(opts: MakeOptions, at: Date): Promise<Issued> {
  const keys = await generateKeyPair(opts.key);
  const ca = opts.ca === true;
  const cert = await issueCertificate({
    subject: opts.cn,
    publicKey: keys.publicKey,
    issuer: opts.by === undefined ? { selfSigned: keys.privateKey } : { certificate: opts.by.cert, privateKey: opts.by.privateKey },
    notBefore: opts.notBefore ?? new Date(at.getTime() - 24 * HOUR),
    notAfter: opts.notAfter ?? new Date(at.getTime() + 24 * HOUR),
    isCA: ca,
    ...(opts.pathLen === undefined ? {} : { pathLen: opts.pathLen }),
    keyUsage: opts.keyUsage ?? (ca ? ['keyCertSign', 'cRLSign'] : ['digitalSignature']),
    extKeyUsage: opts.extKeyUsage ?? (ca ? [] : ['serverAuth', 'clientAuth']),
    sans: (opts.sans ?? []).map(parseSan),
  });
  return { cert, privateKey: keys.privateKey, keyPem: () => exportPrivateKey(keys.privateKey) };
}
