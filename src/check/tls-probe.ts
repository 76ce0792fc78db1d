import tls from 'node:tls';
import { parseCertificates, type Certificate } from '../pki/index.ts';
import { MESH_ALPN } from '../proxy/index.ts';

/** What a mesh TLS handshake with a proxy showed. */
export interface TlsProbe {
  /** The certificate chain the proxy presented, leaf first; empty when the handshake failed. */
  readonly chain: readonly Certificate[];
  /**
   * Whether the proxy accepted the client certificate offered: true when it sent a
   * session ticket (TLS 1.3 servers do so only after verifying the client), false
   * when it answered with an alert; undefined when no certificate was offered or
   * the outcome could not be seen.
   */
  readonly accepted: boolean | undefined;
  /** The TLS error, when there was one. */
  readonly error?: string;
}

/**
 * Opens mesh TLS to a proxy's inbound port as a peer proxy would, to see what it
 * presents and, with `client`, whether it trusts a certificate from the current
 * issuer (a proxy holding an old trust bundle refuses it). Closes at once after.
 */
export function probeMeshTls(
  address: { host: string; port: number; identity: string },
  options: { client?: { keyPem: string; certPem: string }; timeoutMs: number },
): Promise<TlsProbe> {
  return new Promise((resolve) => {
    let chain: Certificate[] = [];
    let settled = false;
    const client = options.client;
    const socket = tls.connect({
      host: address.host,
      port: address.port,
      ALPNProtocols: [MESH_ALPN],
      minVersion: 'TLSv1.3',
      // We read and judge the chain ourselves, against the store's anchors and `--at`.
      rejectUnauthorized: false,
      // Proxies speak mesh TLS only to a ClientHello naming their own identity.
      servername: address.identity,
      ...(client === undefined ? {} : { key: client.keyPem, cert: client.certPem }),
    });
    const done = (probe: TlsProbe): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(probe);
    };
    const timer = setTimeout(() => done({ chain, accepted: undefined, error: `no answer within ${options.timeoutMs} ms` }), options.timeoutMs);
    socket.on('secureConnect', () => {
      chain = peerChain(socket);
      if (client === undefined) done({ chain, accepted: undefined });
    });
    socket.on('session', () => done({ chain, accepted: true }));
    socket.on('error', (err) => done({ chain, accepted: chain.length > 0 ? false : undefined, error: err.message }));
    socket.on('close', () => done({ chain, accepted: chain.length > 0 ? false : undefined, error: 'the proxy closed the connection' }));
  });
}

function peerChain(socket: tls.TLSSocket): Certificate[] {
  const out: Certificate[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert?.raw !== undefined && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(...parseCertificates(new Uint8Array(cert.raw)));
    cert = cert.issuerCertificate;
  }
  return out;
}
