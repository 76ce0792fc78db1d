/**
 * TLS stage: the credentials seam, file-backed credentials, and mesh mTLS contexts.
 */
export type { Credentials, CredentialsProvider } from './credentials.ts';
export { fileCredentials } from './file-credentials.ts';
export type { CredentialFiles, FileCredentials } from './file-credentials.ts';
export { MeshTls, MESH_ALPN, MESH_ALPN_MUX, peerIdentity, firstDnsSan } from './mesh-tls.ts';
export { identityCredentials } from './identity-credentials.ts';
export type { IdentitySource } from './identity-credentials.ts';
