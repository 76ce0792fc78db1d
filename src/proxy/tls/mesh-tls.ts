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
/**
 * Offered first by proxies that also speak the multiplexed opaque transport (transport
 * protocol 4, src/proxy/tcp/mux.ts), and picked by servers that do: a proxy of an
 * earlier release picks `MESH_ALPN`, and its clients fall back to one mesh connection
 * per opaque connection, so a mesh can be upgraded one proxy at a time.
 */
export const MESH_ALPN_MUX = 'weft.mesh/2';

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

/** The native TLS handle methods `avoidPeerX509Leak` uses. */
type TlsHandle = {
  getPeerCertificate?: (detailed: boolean) => { raw?: Buffer } | null | undefined;
  getPeerX509Certificate?: () => unknown;
};

/** The accepted socket's native TLS handle, if it looks as `avoidPeerX509Leak` expects. */
function tlsHandle(socket: tls.TLSSocket): TlsHandle | undefined {
  const handle = (socket as unknown as { _handle?: TlsHandle | null })._handle;
  if (typeof handle?.getPeerCertificate !== 'function' || typeof handle.getPeerX509Certificate !== 'function') return undefined;
  return handle;
}

/**
 * Node 24.21's server, once a requested client certificate verified, asks the native
 * handle for it as an `X509Certificate` (`getPeerX509Certificate`, only to refuse a
 * TLS 1.3 resumption without one), and that native call leaks a reference to the
 * certificate OpenSSL parsed: ~4.3 KB of malloc per accepted mesh connection, never
 * freed (bench/README.md, item 36; Node 20 leaks the same on that call but does not
 * make it). Until the handshake is done, this socket's handle gets an own
 * `getPeerX509Certificate` that answers that check from `getPeerCertificate`, which
 * does not leak: the peer's leaf as node's plain object (truthy), or undefined
 * without one. (Building an `X509Certificate` from its DER kept ~2 KB per connection
 * too.) `restorePeerX509` puts the native method back for the socket's later users.
 * Leaves a handle it does not recognise alone.
 */
function avoidPeerX509Leak(socket: tls.TLSSocket): void {
  const handle = tlsHandle(socket);
  if (handle === undefined) return;
  const peerCertificate = handle.getPeerCertificate!.bind(handle);
  handle.getPeerX509Certificate = () => {
    const cert = peerCertificate(false);
    return cert?.raw === undefined ? undefined : cert;
  };
}

/** Undoes `avoidPeerX509Leak` once node has checked the handshake. */
function restorePeerX509(socket: tls.TLSSocket): void {
  const handle = tlsHandle(socket);
  if (handle !== undefined && Object.hasOwn(handle, 'getPeerX509Certificate')) delete handle.getPeerX509Certificate;
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
  readonly #server = ((mesh: MeshTls) => tls.createServer({
    requestCert: true,
    rejectUnauthorized: true,
    // Picks MESH_ALPN_MUX (when this proxy multiplexes), else MESH_ALPN, like
    // `ALPNProtocols` would (no overlap: the handshake fails), and is the one hook
    // node:tls runs on each accepted socket before its handshake completes (`this` is
    // the socket): see `avoidPeerX509Leak`.
    ALPNCallback(this: tls.TLSSocket, { protocols }: { protocols: string[] }): string | undefined {
      avoidPeerX509Leak(this);
      if (mesh.#multiplex && protocols.includes(MESH_ALPN_MUX)) return MESH_ALPN_MUX;
      return protocols.includes(MESH_ALPN) ? MESH_ALPN : undefined;
    },
    minVersion: 'TLSv1.3',
    handshakeTimeout: 10_000,
  }))(this);
  /** Whether accepted connections may carry the multiplexed opaque transport (ALPN `MESH_ALPN_MUX`). */
  readonly #multiplex: boolean;

  /** `multiplex` (default true): offer and accept the multiplexed opaque transport (`--opaque-mux`). */
  constructor(provider: CredentialsProvider, options: { multiplex?: boolean } = {}) {
    this.#multiplex = options.multiplex ?? true;
    this.#provider = provider;
    this.#server.on('tlsClientError', (err, socket) => {
      restorePeerX509(socket);
      this.#onRefused?.(err, socket);
      socket.destroy();
    });
    this.#server.on('secureConnection', (socket: tls.TLSSocket) => {
      restorePeerX509(socket);
      // Half-open from here on: a peer proxy's half-close (its client's FIN) must not
      // end our side before the application's answer went back. Not during the
      // handshake (see accept).
      socket.allowHalfOpen = true;
      this.#onAccepted?.(socket);
    });
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
    // The listeners accept half-open sockets; a FIN in the middle of a handshake must
    // still close at once rather than hold the socket for the handshake timeout.
    (socket as { allowHalfOpen?: boolean }).allowHalfOpen = false;
    this.#server.emit('connection', socket);
  }

  /** Opens mesh TLS to `host:port`, requiring the server to present `identity`. */
  connect(host: string, port: number, identity: string): tls.TLSSocket {
    return tls.connect({
      host,
      port,
      secureContext: this.#requireContext(),
      servername: identity,
      ALPNProtocols: this.#multiplex ? [MESH_ALPN_MUX, MESH_ALPN] : [MESH_ALPN],
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
