/**
 * ES256 JSON Web Tokens (RFC 7519 / RFC 7515 compact form) with node:crypto. Only
 * what service-account tokens need: one algorithm, a key id, and the registered
 * claims. No JWT library: the format is three base64url parts and one signature,
 * and accepting exactly one algorithm closes the `alg: none` / HS256-confusion doors
 * that general libraries have to guard.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/** A token signing key: P-256, with its RFC 7638-style key id. */
export interface JwtSigningKey {
  /** base64url SHA-256 of the SubjectPublicKeyInfo; goes in the header `kid`. */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Generates a fresh P-256 token signing key. */
export function generateJwtSigningKey(): JwtSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: keyId(publicKey), privateKey, publicKey };
}

/** Reads a PKCS#8 (or SEC1) PEM P-256 private key as a token signing key. */
export function jwtSigningKeyFromPem(pem: string): JwtSigningKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('Use a P-256 key for token signing');
  }
  const publicKey = createPublicKey(privateKey);
  return { kid: keyId(publicKey), privateKey, publicKey };
}

/** The private key as PKCS#8 PEM, to keep in the store. */
export function jwtSigningKeyToPem(key: JwtSigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('base64url');
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Signs `claims` as a compact ES256 JWT. */
export function signJwt(claims: Record<string, unknown>, key: JwtSigningKey): string {
  const input = `${b64json({ alg: 'ES256', typ: 'JWT', kid: key.kid })}.${b64json(claims)}`;
  // JWS wants the raw r||s signature (IEEE P1363), not DER.
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** Why a JWT was refused, before any claim is looked at. */
export type JwtDecodeResult =
  | { kind: 'verified'; claims: Record<string, unknown> }
  | { kind: 'malformed'; message: string }
  | { kind: 'unknown-key'; message: string }
  | { kind: 'bad-signature'; message: string };

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Checks the structure, algorithm and signature of `token` against `keys` (by kid).
 * Claims are returned only when the signature verifies.
 */
export function verifyJwt(token: string, keys: readonly JwtSigningKey[] | readonly { kid: string; publicKey: KeyObject }[]): JwtDecodeResult {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) {
    return { kind: 'malformed', message: 'token is not a compact JWT (three base64url parts)' };
  }
  const [h, p, s] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return { kind: 'malformed', message: 'token header or claims are not JSON' };
  }
  if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    return { kind: 'malformed', message: 'token header or claims are not JSON objects' };
  }
  const { alg, kid } = header as { alg?: unknown; kid?: unknown };
  if (alg !== 'ES256') return { kind: 'malformed', message: `token algorithm must be ES256, not "${String(alg)}"` };
  const key = keys.find((k) => k.kid === kid);
  if (key === undefined) return { kind: 'unknown-key', message: `token is signed by an unknown key "${String(kid)}"` };
  const signature = Buffer.from(s, 'base64url');
  // A P-256 P1363 signature is exactly 64 bytes; anything else is not ours.
  const ok = signature.length === 64 &&
    verify('sha256', Buffer.from(`${h}.${p}`), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  if (!ok) return { kind: 'bad-signature', message: 'token signature does not verify' };
  return { kind: 'verified', claims: claims as Record<string, unknown> };
}
