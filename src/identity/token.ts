/**
 * Service-account tokens. On the embedded platform the control plane is the token
 * issuer: it signs ES256 JWTs shaped like Kubernetes' projected tokens, and the
 * identity service checks them through {@link TokenValidator}, the one interface a
 * Kubernetes TokenReview validator will also implement.
 */
import type { Clock } from './clock.ts';
import { signJwt, verifyJwt, type JwtSigningKey } from './jwt.ts';
import type { ServiceAccountRef } from './names.ts';

/** The audience identity tokens are minted for, and the only one it accepts. */
export const TOKEN_AUDIENCE = 'identity.weft.dev';
/** The `iss` of tokens the embedded control plane mints. */
export const TOKEN_ISSUER = 'weft';

/** Who a valid token speaks for. */
export interface TokenIdentity extends ServiceAccountRef {
  /** The pod the token is bound to, when it is bound. */
  readonly podName: string | undefined;
}

/** Why a token was refused; each reason is a metric label value. */
export const TokenRefusal = {
  malformed: 'malformed',
  unknownKey: 'unknown-key',
  badSignature: 'bad-signature',
  wrongIssuer: 'wrong-issuer',
  wrongAudience: 'wrong-audience',
  expired: 'expired',
  notYetValid: 'not-yet-valid',
  serviceAccountGone: 'service-account-gone',
} as const;

/** One of the {@link TokenRefusal} values. */
export type TokenRefusal = (typeof TokenRefusal)[keyof typeof TokenRefusal];

/** What {@link TokenValidator.validate} decides. */
export type TokenValidation =
  | ({ kind: 'valid' } & TokenIdentity)
  | { kind: 'invalid'; reason: TokenRefusal; message: string };

/**
 * Decides whether a token proves a ServiceAccount. The embedded platform checks
 * its own signatures ({@link EmbeddedTokenValidator}); on Kubernetes a TokenReview
 * against the API server implements the same call.
 */
export interface TokenValidator {
  validate(token: string): Promise<TokenValidation>;
}

/** What {@link mintToken} needs besides the key. */
export interface MintTokenOptions extends ServiceAccountRef {
  /** Bound pod name (Kubernetes' `kubernetes.io.pod.name`), if any. */
  readonly podName?: string;
  /** Lifetime in milliseconds. */
  readonly ttlMs: number;
  /** Issue time, milliseconds since the epoch (from the caller's clock). */
  readonly now: number;
}

/** Mints a service-account token the embedded identity service accepts. */
export function mintToken(key: JwtSigningKey, opts: MintTokenOptions): string {
  const iat = Math.floor(opts.now / 1000);
  const kubernetes: Record<string, unknown> = {
    namespace: opts.namespace,
    serviceaccount: { name: opts.serviceAccount },
  };
  if (opts.podName !== undefined) kubernetes.pod = { name: opts.podName };
  return signJwt({
    iss: TOKEN_ISSUER,
    aud: [TOKEN_AUDIENCE],
    sub: `system:serviceaccount:${opts.namespace}:${opts.serviceAccount}`,
    iat,
    nbf: iat,
    exp: iat + Math.max(1, Math.floor(opts.ttlMs / 1000)),
    'kubernetes.io': kubernetes,
  }, key);
}

/** Where {@link EmbeddedTokenValidator} finds keys and ServiceAccounts. */
export interface EmbeddedTokenValidatorOptions {
  /** The signing keys accepted now (current and, during a key rotation, previous). */
  readonly keys: () => Promise<readonly JwtSigningKey[]>;
  /** Does the ServiceAccount still exist? A deleted one's tokens stop working. */
  readonly serviceAccountExists: (sa: ServiceAccountRef) => Promise<boolean>;
  readonly clock: Clock;
  /** Accepted clock difference for `nbf`/`iat`, milliseconds (default 20 000). `exp` is strict. */
  readonly skewMs?: number;
}

const SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** Validates the control plane's own ES256 tokens: signature, issuer, audience, time, ServiceAccount. */
export class EmbeddedTokenValidator implements TokenValidator {
  readonly #opts: EmbeddedTokenValidatorOptions;

  constructor(opts: EmbeddedTokenValidatorOptions) {
    this.#opts = opts;
  }

  async validate(token: string): Promise<TokenValidation> {
    const decoded = verifyJwt(token, await this.#opts.keys());
    if (decoded.kind === 'malformed') return { kind: 'invalid', reason: TokenRefusal.malformed, message: decoded.message };
    if (decoded.kind === 'unknown-key') return { kind: 'invalid', reason: TokenRefusal.unknownKey, message: decoded.message };
    if (decoded.kind === 'bad-signature') return { kind: 'invalid', reason: TokenRefusal.badSignature, message: decoded.message };
    const c = decoded.claims;
    if (c.iss !== TOKEN_ISSUER) {
      return { kind: 'invalid', reason: TokenRefusal.wrongIssuer, message: `token issuer must be "${TOKEN_ISSUER}", not "${String(c.iss)}"` };
    }
    const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!aud.includes(TOKEN_AUDIENCE)) {
      return { kind: 'invalid', reason: TokenRefusal.wrongAudience, message: `token audience must include "${TOKEN_AUDIENCE}"` };
    }
    const nowS = this.#opts.clock.now() / 1000;
    const skewS = (this.#opts.skewMs ?? 20_000) / 1000;
    if (typeof c.exp !== 'number') return { kind: 'invalid', reason: TokenRefusal.malformed, message: 'token has no expiry' };
    if (nowS >= c.exp) {
      return { kind: 'invalid', reason: TokenRefusal.expired, message: `token expired at ${new Date(c.exp * 1000).toISOString()}` };
    }
    if (typeof c.nbf === 'number' && nowS + skewS < c.nbf) {
      return { kind: 'invalid', reason: TokenRefusal.notYetValid, message: `token is not valid before ${new Date(c.nbf * 1000).toISOString()}` };
    }
    const m = typeof c.sub === 'string' ? SUBJECT.exec(c.sub) : null;
    if (m === null) {
      return { kind: 'invalid', reason: TokenRefusal.malformed, message: 'token subject must be "system:serviceaccount:NS:SA"' };
    }
    const sa = { namespace: m[1] as string, serviceAccount: m[2] as string };
    if (!(await this.#opts.serviceAccountExists(sa))) {
      return {
        kind: 'invalid', reason: TokenRefusal.serviceAccountGone,
        message: `ServiceAccount "${sa.namespace}/${sa.serviceAccount}" does not exist`,
      };
    }
    const k8s = c['kubernetes.io'] as { pod?: { name?: unknown } } | undefined;
    const podName = typeof k8s?.pod?.name === 'string' ? k8s.pod.name : undefined;
    return { kind: 'valid', ...sa, podName };
  }
}
