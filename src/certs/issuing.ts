import {
  createCsr, exportPrivateKey, generateKeyPair, importPrivateKey, parseCertificates, parseSan,
  type ImportedKeyPair, type San,
} from '../pki/index.ts';
import {
  conditionOf, DEFAULT_REVISION_HISTORY_LIMIT, type Certificate, type CertificateRequest, type OwnerReference, type Secret,
} from '../api/index.ts';
import { recordEvent } from '../store/index.ts';
import { removeCondition, rfc3339, setCondition } from './conditions.ts';
import { COMPONENT, type ControllerContext } from './context.ts';
import { gatherFacts, validityStatus } from './facts.ts';
import { loadIssuer } from './issuers.ts';
import { ISSUER_CA_ANNOTATION, SPEC_HASH_ANNOTATION } from './policies.ts';
import { encodePrivateKey, keySpecForCertificate, keySpecMismatch } from './private-key-spec.ts';
import { Reason } from './reasons.ts';
import { Annotation, nextKeySecretName, requestName } from './request-names.ts';
import { base64, secretText } from './secret-data.ts';
import { processRequest } from './sign-certificate-request.ts';
import { specHash } from './spec-hash.ts';
import { writeStatusIfChanged } from './status-write.ts';

/**
 * The issuing controller: for a Certificate with Issuing=True, obtains a key,
 * creates the CertificateRequest for the next revision, has it signed, and writes
 * the Secret. Every step finds the work of an interrupted earlier run and reuses
 * it (the request is named after its revision, the key waits in its own Secret),
 * so a crash at any point ends in exactly one new revision.
 *
 *   Issuing=True ─▶ next key ─▶ CertificateRequest <name>-<rev> ─▶ signed ─▶ Secret ─▶ status.revision=rev
 *                                                              └─▶ failed ─▶ Issuing=False/Failed, backoff
 */
export async function processIssuing(ctx: ControllerContext, key: { name: string; namespace: string }): Promise<void> {
  const cert = await ctx.store.get('Certificate', key.name, key.namespace);
  if (cert === undefined) return;
  const issuing = conditionOf(cert, 'Issuing');
  if (issuing?.status !== 'True') {
    await removeStaleNextKey(ctx, cert);
    return;
  }
  const revision = (cert.status?.revision ?? 0) + 1;
  const keyPair = await privateKeyFor(ctx, cert);

  let request = await ctx.store.get('CertificateRequest', requestName(cert.metadata.name, revision), key.namespace);
  const failedBefore = request !== undefined && conditionOf(request, 'Ready')?.reason === Reason.Failed
    && Date.parse(request.metadata.creationTimestamp ?? '') < Date.parse(issuing.lastTransitionTime ?? '');
  if (request !== undefined && (failedBefore || request.metadata.annotations?.[Annotation.privateKeySecretName] === undefined)) {
    await ctx.store.delete('CertificateRequest', request.metadata.name, key.namespace);
    request = undefined;
  }
  request ??= await createRequest(ctx, cert, revision, keyPair);
  request = await processRequest(ctx, request);

  const ready = conditionOf(request, 'Ready');
  if (ready?.reason === 'Issued') {
    await writeSecret(ctx, cert, request, keyPair.pem);
    await finishIssuance(ctx, cert, request, revision);
  } else if (ready?.reason === Reason.Failed) {
    await failIssuance(ctx, cert, ready.message ?? 'The issuer refused the request');
  }
}

/**
 * A Certificate that is not issuing has no use for a next private key (as
 * cert-manager's key manager holds). One is left when the controller stopped
 * between recording an issuance and deleting the key's Secret: the status already
 * says the issuance is done, so nothing else would ever remove it.
 */
async function removeStaleNextKey(ctx: ControllerContext, cert: Certificate): Promise<void> {
  const name = nextKeySecretName(cert.metadata.name);
  const namespace = cert.metadata.namespace ?? 'default';
  if ((await ctx.store.get('Secret', name, namespace)) !== undefined) await ctx.store.delete('Secret', name, namespace);
}

interface KeyForIssuance extends ImportedKeyPair {
  readonly pem: string;
  /** Where the key waits, or undefined when the current key is reused. */
  readonly secretName: string | undefined;
}

/**
 * The key for this issuance: under rotationPolicy Never, the Secret's current key
 * when it still fits the spec; otherwise a new key, kept in a Secret of its own
 * until the issuance is done, so a retried or resumed issuance keeps using it.
 */
async function privateKeyFor(ctx: ControllerContext, cert: Certificate): Promise<KeyForIssuance> {
  const namespace = cert.metadata.namespace ?? 'default';
  if ((cert.spec.privateKey?.rotationPolicy ?? 'Always') === 'Never') {
    const facts = await gatherFacts(ctx, cert);
    const leaf = facts.chain[0];
    if (facts.key !== undefined && (leaf === undefined || keySpecMismatch(leaf.publicKey, cert.spec.privateKey) === null)) {
      const pem = secretText(facts.secret, 'tls.key') as string;
      return { ...facts.key, pem, secretName: undefined };
    }
  }
  const secretName = nextKeySecretName(cert.metadata.name);
  const existing = await ctx.store.get('Secret', secretName, namespace);
  const existingPem = secretText(existing, 'tls.key');
  if (existingPem !== undefined) {
    const pair = await importPrivateKey(existingPem);
    return { ...pair, pem: existingPem, secretName };
  }
  const pair = await generateKeyPair(keySpecForCertificate(cert.spec.privateKey));
  const pem = await exportPrivateKey(pair.privateKey);
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName,
      namespace,
      labels: { 'cert-manager.io/next-private-key': 'true' },
      ownerReferences: [ownerReference(cert)],
    },
    type: 'Opaque',
    data: { 'tls.key': base64(pem) },
  };
  await ctx.store.apply(secret);
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, pem, secretName };
}

function ownerReference(cert: Certificate): OwnerReference {
  return {
    apiVersion: cert.apiVersion,
    kind: 'Certificate',
    name: cert.metadata.name,
    uid: cert.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

function requestedSans(cert: Certificate): San[] {
  const sans: San[] = [];
  for (const name of cert.spec.dnsNames ?? []) sans.push({ type: 'dns', value: name });
  for (const ip of cert.spec.ipAddresses ?? []) sans.push({ type: 'ip', value: ip });
  for (const uri of cert.spec.uris ?? []) sans.push(parseSan(uri));
  for (const email of cert.spec.emailAddresses ?? []) sans.push({ type: 'email', value: email });
  return sans;
}

async function createRequest(
  ctx: ControllerContext,
  cert: Certificate,
  revision: number,
  keyPair: KeyForIssuance,
): Promise<CertificateRequest> {
  const csr = await createCsr({ subject: cert.spec.commonName ?? '', keyPair, sans: requestedSans(cert) });
  const annotations: Record<string, string> = {
    [Annotation.certificateName]: cert.metadata.name,
    [Annotation.certificateRevision]: String(revision),
    [Annotation.privateKeySecretName]: keyPair.secretName ?? cert.spec.secretName,
  };
  const request: CertificateRequest = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'CertificateRequest',
    metadata: {
      name: requestName(cert.metadata.name, revision),
      namespace: cert.metadata.namespace ?? 'default',
      annotations,
      ownerReferences: [ownerReference(cert)],
    },
    spec: {
      request: base64(csr.pem),
      issuerRef: cert.spec.issuerRef,
      ...(cert.spec.duration !== undefined ? { duration: cert.spec.duration } : {}),
      ...(cert.spec.isCA !== undefined ? { isCA: cert.spec.isCA } : {}),
      ...(cert.spec.usages !== undefined ? { usages: cert.spec.usages } : {}),
    },
  };
  return (await ctx.store.apply(request)).object;
}

async function writeSecret(ctx: ControllerContext, cert: Certificate, request: CertificateRequest, keyPem: string): Promise<void> {
  const namespace = cert.metadata.namespace ?? 'default';
  const crt = Buffer.from(request.status?.certificate ?? '', 'base64').toString('utf8');
  const ca = request.status?.ca !== undefined ? Buffer.from(request.status.ca, 'base64').toString('utf8') : '';
  const leaf = parseCertificates(crt)[0];
  const { privateKey } = await importPrivateKey(keyPem);
  const tlsKey = await encodePrivateKey(privateKey, cert.spec.privateKey?.encoding);
  const issuer = await loadIssuer(ctx, cert);
  const existing = await ctx.store.get('Secret', cert.spec.secretName, namespace);
  const sans = leaf?.sans ?? [];
  const annotations: Record<string, string> = {
    ...existing?.metadata.annotations,
    ...cert.spec.secretTemplate?.annotations,
    [Annotation.certificateName]: cert.metadata.name,
    [Annotation.issuerName]: cert.spec.issuerRef.name,
    [Annotation.issuerKind]: cert.spec.issuerRef.kind ?? 'Issuer',
    [Annotation.issuerGroup]: cert.spec.issuerRef.group ?? 'cert-manager.io',
    [Annotation.commonName]: leaf?.commonName ?? '',
    [Annotation.altNames]: sans.filter((s) => s.type === 'dns').map((s) => s.value).join(','),
    [Annotation.ipSans]: sans.filter((s) => s.type === 'ip').map((s) => s.value).join(','),
    [Annotation.uriSans]: sans.filter((s) => s.type === 'uri').map((s) => s.value).join(','),
    [Annotation.emailSans]: sans.filter((s) => s.type === 'email').map((s) => s.value).join(','),
    [SPEC_HASH_ANNOTATION]: specHash(cert.spec),
  };
  if (issuer.ready && issuer.signer.kind === 'ca') annotations[ISSUER_CA_ANNOTATION] = issuer.signer.fingerprint;
  const clamped = request.metadata.annotations?.[Annotation.clampedToIssuer];
  if (clamped !== undefined) annotations[Annotation.clampedToIssuer] = clamped;
  else delete annotations[Annotation.clampedToIssuer];
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: cert.spec.secretName,
      namespace,
      labels: { ...existing?.metadata.labels, ...cert.spec.secretTemplate?.labels, 'controller.cert-manager.io/fao': 'true' },
      annotations,
    },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': base64(crt), 'tls.key': base64(tlsKey), 'ca.crt': base64(ca) },
  };
  await ctx.store.apply(secret);
}

async function finishIssuance(ctx: ControllerContext, cert: Certificate, request: CertificateRequest, revision: number): Promise<void> {
  const namespace = cert.metadata.namespace ?? 'default';
  const crt = Buffer.from(request.status?.certificate ?? '', 'base64').toString('utf8');
  const leaf = parseCertificates(crt)[0];
  const {
    failedIssuanceAttempts: _f, lastFailureTime: _l, nextPrivateKeySecretName: _n, ...rest
  } = cert.status ?? {};
  const status = {
    ...rest,
    conditions: removeCondition(cert.status?.conditions, 'Issuing'),
    revision,
    ...validityStatus(cert, leaf),
  };
  await writeStatusIfChanged(ctx.store, cert, status);
  await ctx.store.delete('Secret', nextKeySecretName(cert.metadata.name), namespace);
  await pruneRequests(ctx, cert, revision);
  await recordEvent(ctx.store, cert, {
    type: 'Normal', reason: Reason.Issued, message: 'The certificate has been successfully issued', component: COMPONENT,
  });
  const clamped = request.metadata.annotations?.[Annotation.clampedToIssuer];
  if (clamped !== undefined) {
    await recordEvent(ctx.store, cert, {
      type: 'Warning',
      reason: Reason.ClampedToIssuer,
      message: `notAfter was clamped to ${clamped}, when the issuing CA expires: renew the CA earlier or shorten spec.duration`,
      component: COMPONENT,
    });
  }
}

/** Keeps the newest `revisionHistoryLimit` CertificateRequests of the Certificate. */
async function pruneRequests(ctx: ControllerContext, cert: Certificate, revision: number): Promise<void> {
  const namespace = cert.metadata.namespace ?? 'default';
  const limit = cert.spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const { items } = await ctx.store.list('CertificateRequest', { namespace });
  for (const request of items) {
    if (request.metadata.annotations?.[Annotation.certificateName] !== cert.metadata.name) continue;
    const rev = Number(request.metadata.annotations[Annotation.certificateRevision]);
    if (Number.isFinite(rev) && rev <= revision - limit) {
      await ctx.store.delete('CertificateRequest', request.metadata.name, namespace);
    }
  }
}

async function failIssuance(ctx: ControllerContext, cert: Certificate, message: string): Promise<void> {
  const now = ctx.now();
  const failures = (cert.status?.failedIssuanceAttempts ?? 0) + 1;
  const status = {
    ...cert.status,
    lastFailureTime: rfc3339(now),
    failedIssuanceAttempts: failures,
    conditions: setCondition(cert.status?.conditions, {
      type: 'Issuing',
      status: 'False',
      reason: Reason.Failed,
      message: `The certificate request has failed to complete and will be retried: ${message}`,
      observedGeneration: cert.metadata.generation ?? 1,
    }, now),
  };
  await writeStatusIfChanged(ctx.store, cert, status);
  await recordEvent(ctx.store, cert, {
    type: 'Warning', reason: Reason.Failed, message: `The certificate request has failed to complete and will be retried: ${message}`,
    component: COMPONENT,
  });
}
