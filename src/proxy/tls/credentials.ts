/**
 * The seam between the proxy and whoever gives it a certificate. Today: files
 * (`fileCredentials`); later the identity client (src/identity) implements the same
 * shape. The proxy never caches credentials itself: it asks `current()` when it
 * builds TLS contexts and rebuilds them on `onChange`.
 */

/** A workload's key, its certificate chain and the roots it trusts, all PEM. */
export type Credentials = {
  /** PKCS#8 or SEC1 private key, PEM. */
  key: string;
  /** Leaf first, then intermediates, PEM. */
  certChain: string;
  /** Trust anchors (roots) peers must chain to, PEM; may hold several during rotation. */
  trustAnchors: string;
};

/** Supplies the current credentials and tells when they change. */
export type CredentialsProvider = {
  /** The credentials to use for new connections, or undefined before the first ones arrive. */
  current(): Credentials | undefined;
  /** Calls `cb` after each change; returns a function that stops the calls. */
  onChange(cb: () => void): () => void;
  /** Extra Prometheus text for `/metrics` (the identity client's refresh counts); optional. */
  metrics?(): string;
};
