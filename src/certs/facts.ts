import { keyMatchesCertificate, parseDuration, type Certificate as X509, type ImportedKeyPair } from '../pki/index.ts';
import type { Certificate, Secret } from '../api/index.ts';
import { rfc3339 } from './conditions.ts';
import type { ControllerContext } from './context.ts';
import { loadIssuer, type IssuerState } from './issuers.ts';
import type { PolicyInput } from './policies.ts';
import { keySpecMismatch } from './private-key-spec.ts';
import { renewalTime } from './renewal-time.ts';
import { secretText } from './secret-data.ts';
import { specHash } from './spec-hash.ts';

/** Everything the trigger and readiness controllers decide on, read once. */
export interface CertificateFacts {
  readonly input: PolicyInput;
  readonly secret: Secret | undefined;
  /** The certificate chain in tls.crt (leaf first), when readable. */
  readonly chain: readonly X509[];
  /** The key in tls.key, when readable. */
  readonly key: ImportedKeyPair | undefined;
  readonly issuer: IssuerState;
}

/** Reads the Certificate's Secret and issuer and turns them into policy input. */
export async function gatherFacts(ctx: ControllerContext, cert: Certificate): Promise<CertificateFacts> {
  const namespace = cert.metadata.namespace ?? 'default';
  const secret = await ctx.store.get('Secret', cert.spec.secretName, namespace);
  const crtPem = secretText(secret, 'tls.crt');
  const keyPem = secretText(secret, 'tls.key');

  let chain: readonly X509[] = [];
  let issued: PolicyInput['issued'];
  if (crtPem !== undefined) {
    try {
      chain = ctx.pem.certificates(crtPem);
      const leaf = chain[0];
      issued = leaf === undefined ? { error: 'no certificate in tls.crt' } : { notBefore: leaf.notBefore, notAfter: leaf.notAfter };
    } catch (err) {
      issued = { error: (err as Error).message };
    }
  }
  let key: ImportedKeyPair | undefined;
  let keyUnreadable = false;
  if (keyPem !== undefined) {
    try {
      key = await ctx.pem.privateKey(keyPem);
    } catch {
      keyUnreadable = true;
    }
  }
  const leaf = chain[0];
  const keyMatches = leaf !== undefined && key !== undefined
    ? await keyMatchesCertificate(key.privateKey, leaf)
    : keyUnreadable ? false : undefined;

  const issuer = await loadIssuer(ctx, cert);
  const input: PolicyInput = {
    now: ctx.now(),
    secret: secret === undefined ? undefined : {
      name: secret.metadata.name,
      hasCertificate: crtPem !== undefined,
      hasPrivateKey: keyPem !== undefined,
      annotations: secret.metadata.annotations ?? {},
    },
    issued,
    keyMatchesCertificate: keyMatches,
    keySpecMismatch: leaf !== undefined && keyMatches === true ? keySpecMismatch(leaf.publicKey, cert.spec.privateKey) : null,
    issuerName: cert.spec.issuerRef.name,
    issuerKind: cert.spec.issuerRef.kind ?? 'Issuer',
    issuerGroup: cert.spec.issuerRef.group ?? 'cert-manager.io',
    specHash: specHash(cert.spec),
    issuerCAFingerprint: issuer.ready && issuer.signer.kind === 'ca' ? issuer.signer.fingerprint : undefined,
    renewalTime: leaf === undefined ? undefined : renewalTime(leaf, renewOptions(cert)),
  };
  return { input, secret, chain, key, issuer };
}

/**
 * The validity fields of a Certificate's status for its issued `leaf`: notBefore,
 * notAfter and renewalTime (RFC 3339); none while there is no leaf.
 */
export function validityStatus(cert: Certificate, leaf: X509 | undefined): { notBefore?: string; notAfter?: string; renewalTime?: string } {
  if (leaf === undefined) return {};
  return {
    notBefore: rfc3339(leaf.notBefore),
    notAfter: rfc3339(leaf.notAfter),
    renewalTime: rfc3339(renewalTime(leaf, renewOptions(cert))),
  };
}

/** renewBefore / renewBeforePercentage of a Certificate, for renewalTime(). */
function renewOptions(cert: Certificate): { renewBefore?: number; renewBeforePercentage?: number } {
  const out: { renewBefore?: number; renewBeforePercentage?: number } = {};
  if (cert.spec.renewBefore !== undefined) out.renewBefore = parseDuration(cert.spec.renewBefore);
  if (cert.spec.renewBeforePercentage !== undefined) out.renewBeforePercentage = cert.spec.renewBeforePercentage;
  return out;
}
