/**
 * One Certify call, from decoded request to leaf or refusal, without gRPC: the
 * server maps the outcome to a status, the metrics to a label.
 *
 *   fields present? ─▶ issuer ready? ─▶ token valid? ─▶ token names the identity? ─▶ CSR fits? ─▶ sign
 *   INVALID_ARGUMENT   UNAVAILABLE      UNAUTHENTICATED  PERMISSION_DENIED          INVALID_ARGUMENT
 */
import { status } from '@grpc/grpc-js';
import { parseCsr, type Csr } from '../pki/index.ts';
import type { IdentityConfig } from './config.ts';
import type { Issuer } from './issuer.ts';
import { issueLeaf } from './leaf.ts';
import { identityName, parseIdentityName } from './names.ts';
import type { TokenValidator } from './token.ts';
import type { CertifyRequest, CertifyResponse } from './wire.ts';

/** Result label of a Certify call, as counted in `identity_certify_requests_total`. */
export const CertifyResult = {
  ok: 'ok',
  invalidRequest: 'invalid-request',
  unauthenticated: 'unauthenticated',
  permissionDenied: 'permission-denied',
  invalidCsr: 'invalid-csr',
  issuerNotReady: 'issuer-not-ready',
  internal: 'internal',
} as const;

/** One of the {@link CertifyResult} values. */
export type CertifyResult = (typeof CertifyResult)[keyof typeof CertifyResult];

/** What {@link certify} decided. */
export type CertifyOutcome =
  | { kind: 'issued'; response: CertifyResponse; identity: string }
  | { kind: 'refused'; result: CertifyResult; code: status; message: string };

/** What {@link certify} needs. */
export interface CertifyDeps {
  readonly config: IdentityConfig;
  readonly validator: TokenValidator;
  /** The issuer to sign with at `now`, or undefined when none is valid. */
  readonly issuer: (now: Date) => Issuer | undefined;
  readonly now: () => Date;
}

function refuse(result: CertifyResult, code: status, message: string): CertifyOutcome {
  return { kind: 'refused', result, code, message };
}

/**
 * The CSR rules, in order: its signature verifies, it names exactly one DNS SAN and
 * that is `identity`, no other SANs, and its key is ECDSA P-256. Null when it fits.
 */
export function csrProblem(csr: Csr, identity: string): string | null {
  if (!csr.signatureValid) return 'CSR signature does not verify with its public key';
  const dns = csr.sans.filter((s) => s.type === 'dns');
  if (dns.length !== 1) return `CSR must have exactly one DNS name: found ${dns.length}`;
  if (dns[0]?.value !== identity) return `CSR DNS name "${dns[0]?.value ?? ''}" must equal the requested identity "${identity}"`;
  const others = csr.sans.filter((s) => s.type !== 'dns');
  if (others.length > 0) return `CSR must not have ${others.map((s) => `${s.type.toUpperCase()} SAN "${s.value}"`).join(', ')}`;
  const key = csr.publicKeyInfo;
  if (key.kty !== 'EC' || key.curve !== 'P-256') {
    return `CSR key must be ECDSA P-256: found ${key.kty === 'EC' ? `ECDSA ${key.curve ?? '?'}` : `${key.algorithm} ${key.size}`}`;
  }
  return null;
}

/** Decides one Certify request. Never throws: unexpected failures become INTERNAL. */
export async function certify(req: CertifyRequest, deps: CertifyDeps): Promise<CertifyOutcome> {
  try {
    return await decide(req, deps);
  } catch (err) {
    return refuse(CertifyResult.internal, status.INTERNAL, `cannot issue certificate: ${(err as Error).message}`);
  }
}

async function decide(req: CertifyRequest, deps: CertifyDeps): Promise<CertifyOutcome> {
  const { config } = deps;
  if (req.identity === '') return refuse(CertifyResult.invalidRequest, status.INVALID_ARGUMENT, 'identity is required');
  const wanted = parseIdentityName(req.identity, config);
  if (wanted === null) {
    return refuse(CertifyResult.invalidRequest, status.INVALID_ARGUMENT,
      `identity "${req.identity}" must have the form "<sa>.<ns>.serviceaccount.identity.${config.controlPlaneNamespace}.${config.trustDomain}"`);
  }
  if (req.certificateSigningRequest.length === 0) {
    return refuse(CertifyResult.invalidRequest, status.INVALID_ARGUMENT, 'certificate signing request is required');
  }
  const now = deps.now();
  const issuer = deps.issuer(now);
  if (issuer === undefined) return refuse(CertifyResult.issuerNotReady, status.UNAVAILABLE, 'issuer not ready');
  if (req.token.length === 0) return refuse(CertifyResult.unauthenticated, status.UNAUTHENTICATED, 'token is required');
  const token = await deps.validator.validate(Buffer.from(req.token).toString('utf8'));
  if (token.kind === 'invalid') {
    return refuse(CertifyResult.unauthenticated, status.UNAUTHENTICATED, `token rejected (${token.reason}): ${token.message}`);
  }
  const tokenIdentity = identityName(token, config);
  if (tokenIdentity !== req.identity) {
    return refuse(CertifyResult.permissionDenied, status.PERMISSION_DENIED,
      `requested identity "${req.identity}" does not match the token's "${tokenIdentity}"`);
  }
  let csr: Csr;
  try {
    csr = await parseCsr(req.certificateSigningRequest);
  } catch {
    return refuse(CertifyResult.invalidCsr, status.INVALID_ARGUMENT, 'certificate signing request is not a DER PKCS#10 CSR');
  }
  const problem = csrProblem(csr, req.identity);
  if (problem !== null) return refuse(CertifyResult.invalidCsr, status.INVALID_ARGUMENT, problem);
  const leaf = await issueLeaf(issuer, {
    serviceAccount: wanted,
    domain: config,
    publicKey: csr.publicKey,
    now,
    lifetimeMs: config.issuanceLifetimeMs,
    clockSkewMs: config.clockSkewMs,
  });
  return {
    kind: 'issued',
    identity: req.identity,
    response: {
      leafCertificate: leaf.der,
      intermediateCertificates: issuer.chain.map((c) => c.der),
      validUntil: leaf.notAfter,
    },
  };
}
