import { UsageError } from '../errors/index.ts';
import { certificateRequestKind, type CertificateRequest } from './certificate-request.ts';
import { certificateKind, type Certificate } from './certificate.ts';
import { configMapKind, type ConfigMap } from './config-map.ts';
import { endpointsKind, type Endpoints } from './endpoints.ts';
import { deploymentKind, type Deployment } from './deployment.ts';
import { eventKind, type Event } from './event.ts';
import { clusterIssuerKindDefinition, issuerKindDefinition, type ClusterIssuer, type Issuer } from './issuer.ts';
import type { KindDefinition } from './kind.ts';
import { namespaceKind, type Namespace } from './namespace.ts';
import { podKind, type Pod } from './pod.ts';
import { secretKind, type Secret } from './secret.ts';
import { serviceAccountKind, type ServiceAccount } from './service-account.ts';
import { serviceKind, type Service } from './service.ts';

/** Every kind weft serves. A new kind is one file plus one line here. */
export const KINDS: readonly KindDefinition[] = [
  namespaceKind,
  serviceAccountKind,
  secretKind,
  configMapKind,
  eventKind,
  issuerKindDefinition,
  clusterIssuerKindDefinition,
  certificateKind,
  certificateRequestKind,
  serviceKind,
  endpointsKind,
  podKind,
  deploymentKind,
];

/** Kind name → its TypeScript type, so `store.get('Certificate', …)` is typed. */
export interface KindMap {
  Namespace: Namespace;
  ServiceAccount: ServiceAccount;
  Secret: Secret;
  ConfigMap: ConfigMap;
  Event: Event;
  Issuer: Issuer;
  ClusterIssuer: ClusterIssuer;
  Certificate: Certificate;
  CertificateRequest: CertificateRequest;
  Service: Service;
  Endpoints: Endpoints;
  Pod: Pod;
  Deployment: Deployment;
}

/** A kind name weft knows. */
export type KindName = keyof KindMap;

const byKind = new Map(KINDS.map((k) => [k.kind, k]));

/** The definition of `kind` (exact, as in a manifest's `kind:`), or undefined. */
export function kindDefinition(kind: string): KindDefinition | undefined {
  return byKind.get(kind);
}

/** Known kinds, comma-separated, for messages. */
export function knownKindsText(): string {
  return KINDS.map((k) => k.kind).join(', ');
}

/**
 * Resolves what a user types after `weft get` as kubectl does: the kind, its
 * singular, plural or short name, or `plural.group` (`certificates.cert-manager.io`),
 * case-insensitively. Throws a UsageError listing the types it knows.
 */
export function resolveKind(text: string): KindDefinition {
  const t = text.toLowerCase();
  for (const k of KINDS) {
    const names = [k.kind.toLowerCase(), k.singular, k.plural, ...k.shortNames];
    if (k.group !== '') names.push(`${k.plural}.${k.group}`, `${k.singular}.${k.group}`);
    if (names.includes(t)) return k;
  }
  const known = KINDS.map((k) => (k.shortNames.length > 0 ? `${k.singular} (${k.shortNames.join(', ')})` : k.singular)).join(', ');
  throw new UsageError(`Use one of the resource types weft knows: ${known}: "${text}" is not one`);
}

/** kubectl's name for a kind in messages and output: `certificate.cert-manager.io`, `secret`. */
export function qualifiedSingular(def: KindDefinition): string {
  return def.group === '' ? def.singular : `${def.singular}.${def.group}`;
}

/** kubectl's plural resource name: `certificates.cert-manager.io`, `secrets`. */
export function qualifiedPlural(def: KindDefinition): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}
