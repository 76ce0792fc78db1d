import { fingerprint, keyMatchesCertificate, type Certificate as X509, type CryptoKey } from '../pki/index.ts';
import type { ClusterIssuer, Issuer, IssuerReference, Secret } from '../api/index.ts';
import { conditionOf } from '../api/index.ts';
import type { ControllerContext } from './context.ts';
import { Reason } from './reasons.ts';
import { secretText } from './secret-data.ts';

/** How an issuer signs, once its key pair has been loaded and checked. */
export type Signer =
  | { readonly kind: 'selfSigned' }
  | {
      readonly kind: 'ca';
      /** The CA certificate (first of the CA Secret's tls.crt). */
      readonly certificate: X509;
      readonly privateKey: CryptoKey;
      /** Certificates above the CA up to (not including) a self-signed root. */
      readonly intermediates: readonly X509[];
      /** The root the chain ends at (ca.crt, or the CA itself when self-signed). */
      readonly root: X509 | undefined;
      /** SHA-256 of the CA certificate: a change means the CA was renewed. */
      readonly fingerprint: string;
    };

/** Outcome of loading an issuer: ready to sign, or why not, with cert-manager's reasons. */
export type IssuerState =
  | { readonly ready: true; readonly signer: Signer; readonly issuer: Issuer | ClusterIssuer; readonly message: string }
  | { readonly ready: false; readonly reason: string; readonly message: string; readonly issuer: Issuer | ClusterIssuer | undefined };

/** What names an issuer: a Certificate or CertificateRequest, whose namespace an Issuer must share. */
export interface IssuerReferrer {
  readonly metadata: { readonly namespace?: string };
  readonly spec: { readonly issuerRef: IssuerReference };
}

/** Loads the issuer that `referrer.spec.issuerRef` points at, from the referrer's namespace. */
export async function loadIssuer(ctx: ControllerContext, referrer: IssuerReferrer): Promise<IssuerState> {
  const ref = referrer.spec.issuerRef;
  const namespace = referrer.metadata.namespace ?? 'default';
  const kind = ref.kind ?? 'Issuer';
  const group = ref.group ?? 'cert-manager.io';
  if (group !== 'cert-manager.io' && group !== '') {
    return { ready: false, reason: Reason.Pending, message: `Issuer group "${group}" is not served by weft's controller`, issuer: undefined };
  }
  const issuer = kind === 'ClusterIssuer'
    ? await ctx.store.get('ClusterIssuer', ref.name)
    : kind === 'Issuer'
      ? await ctx.store.get('Issuer', ref.name, namespace)
      : undefined;
  if (issuer === undefined) {
    return {
      ready: false,
      reason: Reason.Pending,
      message: `Referenced "${kind}" not found: "${ref.name}"${kind === 'Issuer' ? ` in namespace "${namespace}"` : ''}`,
      issuer: undefined,
    };
  }
  return checkIssuer(ctx, issuer);
}

/** Loads and checks an Issuer's or ClusterIssuer's key pair. */
export async function checkIssuer(ctx: ControllerContext, issuer: Issuer | ClusterIssuer): Promise<IssuerState> {
  if (issuer.spec.selfSigned !== undefined) {
    return { ready: true, signer: { kind: 'selfSigned' }, issuer, message: '' };
  }
  const secretName = issuer.spec.ca?.secretName ?? '';
  const secretNamespace = issuer.kind === 'ClusterIssuer'
    ? ctx.clusterResourceNamespace
    : (issuer.metadata.namespace ?? 'default');
  const notReady = (reason: string, message: string): IssuerState => ({ ready: false, reason, message, issuer });
  const secret: Secret | undefined = await ctx.store.get('Secret', secretName, secretNamespace);
  if (secret === undefined) {
    return notReady(Reason.ErrGetKeyPair, `Error getting keypair for CA issuer: secrets "${secretName}" not found in namespace "${secretNamespace}"`);
  }
  const crtPem = secretText(secret, 'tls.crt');
  const keyPem = secretText(secret, 'tls.key');
  if (crtPem === undefined || keyPem === undefined) {
    return notReady(Reason.ErrGetKeyPair, `Error getting keypair for CA issuer: secret "${secretName}" has no ${crtPem === undefined ? 'tls.crt' : 'tls.key'}`);
  }
  let chain: readonly X509[];
  let privateKey: CryptoKey;
  try {
    chain = ctx.pem.certificates(crtPem);
    privateKey = (await ctx.pem.privateKey(keyPem)).privateKey;
  } catch (err) {
    return notReady(Reason.ErrInvalidKeyPair, `Error decoding CA keypair in secret "${secretName}": ${(err as Error).message}`);
  }
  const [ca, ...intermediates] = chain;
  if (ca === undefined) return notReady(Reason.ErrInvalidKeyPair, `Secret "${secretName}" tls.crt holds no certificate`);
  if (!ca.isCA || (ca.keyUsage.length > 0 && !ca.keyUsage.includes('keyCertSign'))) {
    return notReady(Reason.ErrInvalidKeyPair, `Error: certificate in secret "${secretName}" is not a CA (no CA:TRUE with keyCertSign): "${ca.subject}"`);
  }
  if (!(await keyMatchesCertificate(privateKey, ca))) {
    return notReady(Reason.ErrInvalidKeyPair, `Error: tls.key in secret "${secretName}" does not match tls.crt`);
  }
  const now = ctx.now();
  if (now.getTime() >= ca.notAfter.getTime()) {
    return notReady(Reason.ErrInvalidKeyPair, `CA certificate in secret "${secretName}" expired at ${ca.notAfter.toISOString()}: renew it, nothing it signs would be valid`);
  }
  let root: X509 | undefined;
  const caCrt = secretText(secret, 'ca.crt');
  try {
    root = caCrt !== undefined ? ctx.pem.certificates(caCrt)[0] : undefined;
  } catch {
    root = undefined;
  }
  const last = chain[chain.length - 1];
  if (root === undefined && last !== undefined && last.selfSigned) root = last;
  return {
    ready: true,
    issuer,
    message: 'Signing CA verified',
    signer: {
      kind: 'ca',
      certificate: ca,
      privateKey,
      intermediates: intermediates.filter((c) => !c.selfSigned),
      root,
      fingerprint: fingerprint(ca),
    },
  };
}

/** The Ready condition an issuer should have for `state`; undefined when unchanged. */
export function issuerReadyCondition(state: IssuerState): { status: 'True' | 'False'; reason: string; message: string } {
  if (state.ready) {
    return state.signer.kind === 'selfSigned'
      ? { status: 'True', reason: Reason.IsReady, message: '' }
      : { status: 'True', reason: Reason.KeyPairVerified, message: state.message };
  }
  return { status: 'False', reason: state.reason, message: state.message };
}

/** True when `issuer`'s Ready condition already says `want`. */
export function issuerConditionIs(issuer: Issuer | ClusterIssuer, want: { status: string; reason: string; message: string }): boolean {
  const c = conditionOf(issuer, 'Ready');
  return c !== undefined && c.status === want.status && c.reason === want.reason && (c.message ?? '') === want.message;
}
