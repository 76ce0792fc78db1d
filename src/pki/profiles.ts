import type { KeyType } from './key-spec.ts';

/** step's certificate profiles (`step certificate create --profile`). */
export type Profile = 'leaf' | 'self-signed' | 'intermediate-ca' | 'root-ca';

/** The profiles in the order step documents them. */
export const PROFILES: readonly Profile[] = ['leaf', 'self-signed', 'intermediate-ca', 'root-ca'];

/** The defaults a profile sets; feed them to `issueCertificate`. */
export interface ProfileOptions {
  /** Default lifetime in milliseconds (`--not-after` overrides it). */
  readonly lifetimeMs: number;
  readonly isCA: boolean;
  readonly pathLen?: number;
  readonly keyUsage: readonly string[];
  readonly extKeyUsage: readonly string[];
  /** Signed by its own key (root-ca, self-signed) rather than by a CA. */
  readonly selfSigned: boolean;
  /** The subject becomes a SAN when no SAN is given (step does this for leaf certificates). */
  readonly subjectAsSan: boolean;
}

const HOUR = 3_600_000;
// step's CA profiles last 10 years, written as 87600h (365-day years).
const TEN_YEARS = 87_600 * HOUR;
const DAY = 24 * HOUR;

/**
 * The step defaults of a profile for a key of type `kty`:
 * - root-ca: 10 years, CA with path length 1, keyCertSign + cRLSign, self-signed;
 * - intermediate-ca: 10 years, CA with path length 0, keyCertSign + cRLSign;
 * - leaf: 24 hours, digitalSignature (+ keyEncipherment for RSA), serverAuth + clientAuth;
 * - self-signed: as leaf, but signed by its own key.
 */
export function profileOptions(profile: Profile, kty: KeyType): ProfileOptions {
  switch (profile) {
    case 'root-ca':
      return { lifetimeMs: TEN_YEARS, isCA: true, pathLen: 1, keyUsage: ['keyCertSign', 'cRLSign'], extKeyUsage: [], selfSigned: true, subjectAsSan: false };
    case 'intermediate-ca':
      return { lifetimeMs: TEN_YEARS, isCA: true, pathLen: 0, keyUsage: ['keyCertSign', 'cRLSign'], extKeyUsage: [], selfSigned: false, subjectAsSan: false };
    case 'leaf':
    case 'self-signed':
      return {
        lifetimeMs: DAY,
        isCA: false,
        // RSA keys can also encrypt (RSA key exchange), so step grants keyEncipherment to them only.
        keyUsage: kty === 'RSA' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'],
        extKeyUsage: ['serverAuth', 'clientAuth'],
        selfSigned: profile === 'self-signed',
        subjectAsSan: true,
      };
  }
}
