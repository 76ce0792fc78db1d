import { internalsOf, type Certificate } from './certificate.ts';
import { hostMatchesSans } from './san.ts';

/** Why a chain is not valid; stable values callers (and the CLI) match on. */
export const ChainFailure = {
  expired: 'expired',
  notYetValid: 'not-yet-valid',
  unknownIssuer: 'unknown-issuer',
  badSignature: 'bad-signature',
  issuerNotCa: 'issuer-not-ca',
  pathlenExceeded: 'pathlen-exceeded',
  keyUsage: 'key-usage',
  hostMismatch: 'host-mismatch',
} as const;

/** One of the {@link ChainFailure} values. */
export type ChainFailureCode = (typeof ChainFailure)[keyof typeof ChainFailure];

/** The outcome of {@link verifyChain}. */
export type ChainResult =
  | { readonly kind: 'valid'; readonly chain: readonly Certificate[] }
  | { readonly kind: 'invalid'; readonly code: ChainFailureCode; readonly reason: string };

/** Inputs of {@link verifyChain}. */
export interface VerifyChainOptions {
  /** Trust anchors. */
  readonly roots: readonly Certificate[];
  /** Untrusted certificates that may sit between the leaf and a root. */
  readonly intermediates?: readonly Certificate[];
  /** The time to validate at (no hidden clock). */
  readonly at: Date;
  /** When given, the leaf must name this DNS name or IP address in its SANs. */
  readonly host?: string;
}

// Deeper chains than this are a loop or an attack; real meshes use two or three.
const MAX_DEPTH = 8;

type Failure = { kind: 'invalid'; code: ChainFailureCode; reason: string };

function invalid(code: ChainFailureCode, reason: string): Failure {
  return { kind: 'invalid', code, reason };
}

function label(cert: Certificate): string {
  return `"${cert.subject === '' ? cert.sans[0]?.value ?? '(no subject)' : cert.subject}"`;
}

function sameDer(a: Certificate, b: Certificate): boolean {
  return Buffer.compare(Buffer.from(a.der), Buffer.from(b.der)) === 0;
}

/** Is `parent` a plausible issuer of `child` by name and key id (not yet by signature)? */
function namesIssuer(parent: Certificate, child: Certificate): boolean {
  if (internalsOf(parent).subjectKey !== internalsOf(child).issuerKey) return false;
  return child.authorityKeyId === '' || parent.subjectKeyId === '' || child.authorityKeyId === parent.subjectKeyId;
}

function signedBy(child: Certificate, parent: Certificate): boolean {
  try {
    return internalsOf(child).node.verify(internalsOf(parent).node.publicKey);
  } catch {
    return false;
  }
}

/**
 * Builds every candidate path from `leaf` up to a root, by name, key id and
 * signature. Returns the paths and, when none exists, the most specific reason.
 */
function buildPaths(leaf: Certificate, roots: readonly Certificate[], pool: readonly Certificate[]): {
  paths: Certificate[][];
  failure: Failure;
} {
  const paths: Certificate[][] = [];
  let failure = invalid(ChainFailure.unknownIssuer, `Cannot find the issuer of ${label(leaf)} among the roots and intermediates`);
  const walk = (path: Certificate[]): void => {
    const current = path[path.length - 1] as Certificate;
    if (roots.some((r) => sameDer(r, current))) {
      paths.push([...path]);
      return;
    }
    if (path.length > MAX_DEPTH) return;
    const candidates = pool.filter((c) => namesIssuer(c, current) && !path.some((p) => sameDer(p, c)));
    if (candidates.length === 0) {
      if (failure.code === ChainFailure.unknownIssuer) {
        failure = invalid(ChainFailure.unknownIssuer, `Cannot find the issuer of ${label(current)} (issuer ${JSON.stringify(current.issuer)}) among the roots and intermediates`);
      }
      return;
    }
    for (const parent of candidates) {
      if (!signedBy(current, parent)) {
        failure = invalid(ChainFailure.badSignature, `The signature of ${label(current)} does not verify with the key of ${label(parent)}`);
        continue;
      }
      path.push(parent);
      walk(path);
      path.pop();
    }
  };
  walk([leaf]);
  return { paths, failure };
}

function isSelfIssued(cert: Certificate): boolean {
  return internalsOf(cert).subjectKey === internalsOf(cert).issuerKey;
}

/** RFC 5280 §6.1 checks on one built path, leaf first, anchor last. */
function validatePath(path: readonly Certificate[], at: Date): Failure | undefined {
  for (const cert of path) {
    if (at.getTime() < cert.notBefore.getTime()) {
      return invalid(ChainFailure.notYetValid, `Certificate ${label(cert)} is not valid until ${cert.notBefore.toISOString()} (checked at ${at.toISOString()})`);
    }
    if (at.getTime() > cert.notAfter.getTime()) {
      return invalid(ChainFailure.expired, `Certificate ${label(cert)} expired at ${cert.notAfter.toISOString()} (checked at ${at.toISOString()})`);
    }
  }
  for (let i = 1; i < path.length; i++) {
    const issuer = path[i] as Certificate;
    if (!issuer.isCA) {
      return invalid(ChainFailure.issuerNotCa, `Certificate ${label(issuer)} is not a CA (basicConstraints CA:FALSE or absent) but issued ${label(path[i - 1] as Certificate)}`);
    }
    if (issuer.keyUsage.length > 0 && !issuer.keyUsage.includes('keyCertSign')) {
      return invalid(ChainFailure.keyUsage, `Certificate ${label(issuer)} may not sign certificates (keyUsage lacks keyCertSign)`);
    }
    if (issuer.pathLen !== undefined) {
      // Intermediate CAs below this issuer, not counting the leaf and self-issued ones (§6.1.4 (l)).
      const below = path.slice(1, i).filter((c) => !isSelfIssued(c)).length;
      if (below > issuer.pathLen) {
        return invalid(ChainFailure.pathlenExceeded, `Certificate ${label(issuer)} allows ${issuer.pathLen} intermediate CA(s) below it (pathlen ${issuer.pathLen}) but the chain has ${below}`);
      }
    }
  }
  return undefined;
}

/**
 * RFC 5280 path building and validation: finds a path from `leaf` through
 * `intermediates` to one of `roots`, then checks signatures, the validity of every
 * certificate at `at`, basicConstraints, path length, keyCertSign on issuers and,
 * when `host` is given, the leaf's DNS/IP SANs (single-label wildcards).
 */
export function verifyChain(leaf: Certificate, opts: VerifyChainOptions): ChainResult {
  const pool = [...(opts.intermediates ?? []), ...opts.roots];
  const { paths, failure } = buildPaths(leaf, opts.roots, pool);
  if (paths.length === 0) return failure;
  let first: Failure | undefined;
  for (const path of paths) {
    const problem = validatePath(path, opts.at);
    if (problem === undefined) {
      if (opts.host !== undefined && !hostMatchesSans(opts.host, leaf.sans)) {
        const names = leaf.sans.filter((s) => s.type === 'dns' || s.type === 'ip').map((s) => s.value);
        return invalid(ChainFailure.hostMismatch, `Certificate ${label(leaf)} is not valid for "${opts.host}": it names ${names.length === 0 ? 'no DNS name or IP' : names.map((n) => `"${n}"`).join(', ')}`);
      }
      return { kind: 'valid', chain: path };
    }
    first ??= problem;
  }
  return first as Failure;
}
