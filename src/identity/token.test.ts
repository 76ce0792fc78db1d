import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from './clock.ts';
import { generateJwtSigningKey, jwtSigningKeyFromPem, jwtSigningKeyToPem, signJwt } from './jwt.ts';
import { EmbeddedTokenValidator, mintToken, TokenRefusal } from './token.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const clockAt = (ms: number): Clock => ({ now: () => ms, setTimer: () => ({ cancel: () => {} }) });
const key = generateJwtSigningKey();
const other = generateJwtSigningKey();

function validator(opts: { now?: number; accounts?: string[] } = {}): EmbeddedTokenValidator {
  const accounts = new Set(opts.accounts ?? ['emojivoto/web']);
  return new EmbeddedTokenValidator({
    keys: async () => [key],
    serviceAccountExists: async (sa) => accounts.has(`${sa.namespace}/${sa.serviceAccount}`),
    clock: clockAt(opts.now ?? NOW),
  });
}

const web = { namespace: 'emojivoto', serviceAccount: 'web', podName: 'web-0', ttlMs: 3_600_000, now: NOW };

test('validate() accepts a token minted with the current key and names its ServiceAccount and pod', async () => {
  const v = await validator().validate(mintToken(key, web));
  assert.deepEqual(v, { kind: 'valid', namespace: 'emojivoto', serviceAccount: 'web', podName: 'web-0' });
});

test('validate() refuses each bad token with its own reason', async () => {
  const cases: Array<[string, string, TokenRefusal, { now?: number; accounts?: string[] }?]> = [
    ['garbage', 'not-a-jwt', TokenRefusal.malformed],
    ['another key', mintToken(other, web), TokenRefusal.unknownKey],
    ['a forged signature', (() => {
      const forged = mintToken(other, web).split('.');
      const real = mintToken(key, web).split('.');
      return `${real[0]}.${forged[1]}.${forged[2]}`;
    })(), TokenRefusal.badSignature],
    ['expired', mintToken(key, web), TokenRefusal.expired, { now: NOW + 3_600_000 }],
    ['not yet valid', mintToken(key, web), TokenRefusal.notYetValid, { now: NOW - 60_000 }],
    ['wrong audience', signJwt({ iss: 'weft', aud: 'x', sub: 'system:serviceaccount:emojivoto:web', exp: NOW / 1000 + 60 }, key),
      TokenRefusal.wrongAudience],
    ['wrong issuer', signJwt({ iss: 'evil', aud: 'identity.weft.dev', exp: NOW / 1000 + 60 }, key), TokenRefusal.wrongIssuer],
    ['deleted ServiceAccount', mintToken(key, web), TokenRefusal.serviceAccountGone, { accounts: [] }],
    ['alg none', `${Buffer.from('{"alg":"none","kid":"x"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`,
      TokenRefusal.malformed],
  ];
  for (const [name, token, reason, opts] of cases) {
    const v = await validator(opts).validate(token);
    assert.equal(v.kind, 'invalid', name);
    assert.equal(v.kind === 'invalid' && v.reason, reason, name);
  }
});

test('a signing key survives a PEM round trip with the same key id', () => {
  assert.equal(jwtSigningKeyFromPem(jwtSigningKeyToPem(key)).kid, key.kid);
});
