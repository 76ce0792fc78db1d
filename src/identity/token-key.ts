/**
 * The embedded platform's token signing key, kept in the store as a Secret in
 * namespace `weft` so that every control-plane process (and `weft token create`)
 * signs and checks with the same key. `key.pem` signs; `previous.pem`, when present,
 * is still accepted, so the key can rotate without invalidating live tokens.
 */
import type { Secret } from '../api/index.ts';
import type { ResourceStore } from '../store/index.ts';
import type { Clock } from './clock.ts';
import { WEFT_CONFIG_NAMESPACE } from './config.ts';
import { generateJwtSigningKey, jwtSigningKeyFromPem, jwtSigningKeyToPem, type JwtSigningKey } from './jwt.ts';
import { EmbeddedTokenValidator, mintToken, type MintTokenOptions } from './token.ts';
import { WeftError } from '../errors/index.ts';

/** Name of the signing-key Secret in namespace `weft`. */
export const TOKEN_SIGNING_KEY_SECRET = 'weft-token-signing-key';

function keysOf(secret: Secret): JwtSigningKey[] {
  const out: JwtSigningKey[] = [];
  for (const k of ['key.pem', 'previous.pem']) {
    const b64 = secret.data?.[k];
    if (b64 !== undefined && b64 !== '') out.push(jwtSigningKeyFromPem(Buffer.from(b64, 'base64').toString('utf8')));
  }
  return out;
}

/** Creates the signing-key Secret when it does not exist yet; resolves to the signing key. */
export async function ensureTokenSigningKey(store: ResourceStore): Promise<{ key: JwtSigningKey; created: boolean }> {
  const existing = await store.get('Secret', TOKEN_SIGNING_KEY_SECRET, WEFT_CONFIG_NAMESPACE);
  const found = existing === undefined ? undefined : keysOf(existing)[0];
  if (found !== undefined) return { key: found, created: false };
  const key = generateJwtSigningKey();
  await store.apply({
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: TOKEN_SIGNING_KEY_SECRET, namespace: WEFT_CONFIG_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'weft' } },
    data: { 'key.pem': Buffer.from(jwtSigningKeyToPem(key)).toString('base64') },
  });
  return { key, created: true };
}

/** Reads the accepted signing keys, parsing again only when the Secret changed. */
export function storeTokenKeys(store: ResourceStore): () => Promise<readonly JwtSigningKey[]> {
  let cached: { rv: string | undefined; keys: JwtSigningKey[] } | undefined;
  return async () => {
    const secret = await store.get('Secret', TOKEN_SIGNING_KEY_SECRET, WEFT_CONFIG_NAMESPACE);
    if (secret === undefined) return [];
    if (cached === undefined || cached.rv !== secret.metadata.resourceVersion) {
      cached = { rv: secret.metadata.resourceVersion, keys: keysOf(secret) };
    }
    return cached.keys;
  };
}

/** The embedded platform's {@link EmbeddedTokenValidator}: keys and ServiceAccounts from the store. */
export function storeTokenValidator(store: ResourceStore, opts: { clock: Clock; skewMs?: number }): EmbeddedTokenValidator {
  return new EmbeddedTokenValidator({
    keys: storeTokenKeys(store),
    serviceAccountExists: async (sa) => (await store.get('ServiceAccount', sa.serviceAccount, sa.namespace)) !== undefined,
    clock: opts.clock,
    ...(opts.skewMs === undefined ? {} : { skewMs: opts.skewMs }),
  });
}

/**
 * Mints a token for a ServiceAccount with the store's signing key, as `weft`
 * projects into each pod. Refuses a ServiceAccount that does not exist: its token
 * would be refused anyway, and saying so now is kinder.
 */
export async function createServiceAccountToken(store: ResourceStore, opts: MintTokenOptions): Promise<string> {
  if ((await store.get('ServiceAccount', opts.serviceAccount, opts.namespace)) === undefined) {
    throw new WeftError('WEFT_ERR_IDENTITY_NO_SERVICE_ACCOUNT',
      `Create ServiceAccount "${opts.serviceAccount}" in namespace "${opts.namespace}" first: it does not exist`);
  }
  const [key] = await storeTokenKeys(store)();
  if (key === undefined) {
    throw new WeftError('WEFT_ERR_IDENTITY_NO_SIGNING_KEY',
      `Start the control plane once (weft control-plane) to create the token signing key: Secret "weft/${TOKEN_SIGNING_KEY_SECRET}" does not exist`);
  }
  return mintToken(key, opts);
}
