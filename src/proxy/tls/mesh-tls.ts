/**
 * Mutual TLS between proxies: TLS 1.3 only, both sides present their workload
 * certificate, both verify the peer chains to the trust anchors, and the client also
 * checks the server presents exactly the identity discovery promised (a DNS SAN).
 *
 * Rotation: a `SecureContext` is built once per credentials change and handed to each
 * new connection; established connections keep the context they started with, so
 * nothing is dropped when a certificate or the trust bundle changes.
 *
 *   credentials ──onChange──▶ rebuild ──▶ #context ──▶ next accept / connect
 */
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WeftError } from '../../errors/index.ts';
import type { CredentialsProvider } from './credentials.ts';

/**
 * ALPN protocol both proxies offer on mesh connections. It marks the connection as
 * proxy-to-proxy; what travels inside is named by the transport header.
 */
export const MESH_ALPN = 'weft.mesh/1';

/** The verified identity of a TLS peer: its certificate's first DNS SAN. */
export function peerIdentity(socket: tls.TLSSocket): string | undefined {
  const cert = socket.getPeerCertificate(false);
  return cert?.subjectaltname === undefined ? undefined : firstDnsSan(cert.subjectaltname);
}

/** The first `DNS:` entry of an OpenSSL-style subjectAltName string. */
export function firstDnsSan(san: string): string | undefined {
  for (const part of san.split(', ')) if (part.startsWith('DNS:')) return part.slice(4);
  return undefined;
}

/** The current mesh TLS contexts of one proxy. */
export class MeshTls {
  readonly #provider: CredentialsProvider;
  #context: tls.SecureContext | undefined;
  #onAccepted: ((socket: tls.TLSSocket) => void) | undefined;
  #onRefused: ((err: Error, socket: tls.TLSSocket) => void) | undefined;
  #identity: string | undefined;
  #expiry: number | undefined;
  readonly #unsubscribe: () => void;
  readonly #listeners = new Set<() => void>();
  /**
   * Never listens: accepted sockets are handed to it after detection. node:tls only
   * verifies a client's chain (and rejects it) for sockets owned by a `tls.Server`,
   * and `setSecureContext` swaps its context for new connections only.
   */
  readonly #server = tls.createServer({
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: [MESH_ALPN],
    minVersion: 'TLSv1.3',
    handshakeTimeout: 10_000,
  });

  constructor(provider: CredentialsProvider) {
    this.#provider = provider;
    this.#server.on('tlsClientError', (err, socket) => {
      this.#onRefused?.(err, socket);
      socket.destroy();
    });
    this.#server.on('secureConnection', (socket: tls.TLSSocket) => this.#onAccepted?.(socket));
    this.#rebuild();
    this.#unsubscribe = provider.onChange(() => {
      this.#rebuild();
      for (const cb of this.#listeners) cb();
    });
  }

  /** Calls `cb` after new contexts are in place. */
  onChange(cb: () => void): void {
    this.#listeners.add(cb);
  }

  /** This proxy's identity (its certificate's first DNS SAN), once it has credentials. */
  get identity(): string | undefined {
    return this.#identity;
  }

  /** When the current certificate expires (seconds since the epoch). */
  get expiry(): number | undefined {
    return this.#expiry;
  }

  /** True once credentials are loaded. */
  get ready(): boolean {
    return this.#context !== undefined;
  }

  #rebuild(): void {
    const c = this.#provider.current();
    if (c === undefined) return;
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(c.certChain);
      const options = { key: c.key, cert: c.certChain, ca: c.trustAnchors, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;
      this.#context = tls.createSecureContext(options);
      this.#server.setSecureContext(options);
    } catch (err) {
      throw new WeftError('WEFT_ERR_PROXY_CREDENTIALS', `Fix the proxy credentials: ${(err as Error).message}`, { cause: err });
    }
    this.#identity = leaf.subjectAltName === undefined ? undefined : firstDnsSan(leaf.subjectAltName);
    this.#expiry = Math.floor(Date.parse(leaf.validTo) / 1000);
  }

  #requireContext(): tls.SecureContext {
    if (this.#context === undefined) throw new WeftError('WEFT_ERR_PROXY_NO_IDENTITY', 'Wait for the proxy\'s certificate: no credentials yet');
    return this.#context;
  }

  /**
   * Sets what happens to accepted mesh connections: `onSecure` gets each verified
   * connection (`authorized` is true), `onRefused` each failed handshake.
   */
  handle(onSecure: (socket: tls.TLSSocket) => void, onRefused: (err: Error, socket: tls.TLSSocket) => void): void {
    this.#onAccepted = onSecure;
    this.#onRefused = onRefused;
  }

  /** Terminates mesh TLS on an accepted socket (its first bytes unshifted back); see `handle`. */
  accept(socket: Duplex): void {
    this.#requireContext();
    this.#server.emit('connection', socket);
  }

  /** Opens mesh TLS to `host:port`, requiring the server to present `identity`. */
  connect(host: string, port: number, identity: string): tls.TLSSocket {
    return tls.connect({
      host,
      port,
      secureContext: this.#requireContext(),
      servername: identity,
      ALPNProtocols: [MESH_ALPN],
      rejectUnauthorized: true,
      checkServerIdentity: (_host, cert) => {
        const got = cert.subjectaltname === undefined ? undefined : firstDnsSan(cert.subjectaltname);
        if (got === identity) return undefined;
        return Object.assign(new Error(`Peer presented identity "${got ?? ''}", expected "${identity}"`), { code: 'WEFT_ERR_PROXY_IDENTITY_MISMATCH' });
      },
    });
  }

  /** Stops following credential changes. */
  close(): void {
    this.#unsubscribe();
  }
}
