/**
 * weft's resource types and their schemas: core (Namespace, ServiceAccount, Secret,
 * ConfigMap, Event) and cert-manager.io/v1 (Issuer, ClusterIssuer, Certificate,
 * CertificateRequest). Validation returns every problem by field path. Pure: no I/O.
 */
export {
  CERT_MANAGER_API_VERSION, CERT_MANAGER_GROUP, KEY_USAGES, type IssuerReference, type KeyUsage,
} from './cert-manager-common.ts';
export {
  DEFAULT_CERTIFICATE_DURATION_MS, DEFAULT_REVISION_HISTORY_LIMIT, ECDSA_SIZES, KeyAlgorithm, KeyEncoding,
  MIN_CERTIFICATE_DURATION_MS, MIN_RENEW_BEFORE_MS, RotationPolicy,
  type Certificate, type CertificatePrivateKey, type CertificateSpec, type CertificateStatus, type CertificateSubject,
} from './certificate.ts';
export type { CertificateRequest, CertificateRequestSpec, CertificateRequestStatus } from './certificate-request.ts';
export type { ConfigMap } from './config-map.ts';
export {
  endpointsKind, type EndpointAddress, type EndpointPort, type Endpoints, type EndpointSubset, type EndpointTargetRef,
} from './endpoints.ts';
export { deploymentKind, type Deployment, type DeploymentSpec, type DeploymentStatus } from './deployment.ts';
export { EventType, type Event, type ObjectReference } from './event.ts';
export type { ClusterIssuer, Issuer, IssuerSpec, IssuerStatus } from './issuer.ts';
export { ageOf, conditionOf, formatAge, type Column, type Condition, type KindDefinition } from './kind.ts';
export {
  KINDS, kindDefinition, knownKindsText, qualifiedPlural, qualifiedSingular, resolveKind,
  type KindMap, type KindName,
} from './kinds.ts';
export { INJECT_ANNOTATIONS, isMeshedPod, PROXY_CONTAINER, type MeshedPodInput } from './meshed-pod.ts';
export type { ObjectMeta, OwnerReference, Resource, ResourceInput } from './meta.ts';
export { DEFAULT_NAMESPACE, type Namespace } from './namespace.ts';
export {
  podKind, podReadyText, type Container, type ContainerPort, type ContainerStatus, type EnvVar, type Pod, type PodSpec, type PodStatus, type Probe,
} from './pod.ts';
export { ERR_INVALID, ValidationError, formatProblem, type Problem } from './problem.ts';
export { SecretType, type Secret } from './secret.ts';
export type { ServiceAccount } from './service-account.ts';
export { serviceKind, type Service, type ServicePort, type ServiceSpec } from './service.ts';
export { assertValidResource, validateResource, type Validation } from './validate.ts';
