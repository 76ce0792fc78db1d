/**
 * Credentials from the identity client (src/identity's `startIdentityClient`): the
 * proxy's key never leaves memory, and each renewed certificate reaches new
 * connections through `onChange` (established ones finish on the old one).
 *
 * Typed structurally, not imported: the proxy's core stays free of src/identity's
 * module graph (the CLI loads it only when the identity service is configured).
 */
import type { Credentials, CredentialsProvider } from './credentials.ts';

/** What the proxy needs from an identity client; `IdentityClient` fits. */
export type IdentitySource = {
  current(): { keyPem: string; certChainPem: string; trustAnchorsPem: string } | undefined;
  onChange(cb: (material: { keyPem: string; certChainPem: string; trustAnchorsPem: string }) => void): () => void;
  /** Prometheus text: `identity_cert_expiration_timestamp_seconds`, `identity_cert_refresh_count{result}`. */
  metrics(): string;
};

/**
 * A `CredentialsProvider` over an identity client. `current()` keeps returning the
 * last certificate it handed out even once the client considers it expired, so the
 * proxy keeps its contexts (peers will refuse an expired certificate anyway, and the
 * client keeps retrying); `metrics()` adds the client's refresh counts (the proxy
 * itself reports the expiry of the certificate it serves).
 */
export function identityCredentials(source: IdentitySource): CredentialsProvider {
  let last: Credentials | undefined;
  let lastChain = '';
  const current = (): Credentials | undefined => {
    const m = source.current();
    if (m === undefined) return last;
    if (last === undefined || m.certChainPem !== lastChain || m.keyPem !== last.key || m.trustAnchorsPem !== last.trustAnchors) {
      last = { key: m.keyPem, certChain: m.certChainPem, trustAnchors: m.trustAnchorsPem };
      lastChain = m.certChainPem;
    }
    return last;
  };
  return {
    current,
    onChange: (cb) => source.onChange(() => cb()),
    metrics: () => refreshCountLines(source.metrics()),
  };
}

/** Only the `identity_cert_refresh_count` family of the client's text (the expiry gauge would duplicate the proxy's). */
function refreshCountLines(text: string): string {
  const keep = text.split('\n').filter((l) => /^(# (HELP|TYPE) )?identity_cert_refresh_count[ {]/.test(l));
  return keep.length === 0 ? '' : `${keep.join('\n')}\n`;
}
