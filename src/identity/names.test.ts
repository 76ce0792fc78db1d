import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityDomainOf, identityName } from './names.ts';

test('identityDomainOf() reads the control-plane namespace and trust domain of an identity name, null otherwise', () => {
  const cases: Array<[string, ReturnType<typeof identityDomainOf>]> = [
    ['web.emojivoto.serviceaccount.identity.weft.cluster.local', { controlPlaneNamespace: 'weft', trustDomain: 'cluster.local' }],
    [identityName({ namespace: 'shop', serviceAccount: 'api' }, { controlPlaneNamespace: 'linkerd', trustDomain: 'example.org' }),
      { controlPlaneNamespace: 'linkerd', trustDomain: 'example.org' }],
    ['web.emojivoto.svc.cluster.local', null],
    ['serviceaccount.identity.weft.cluster.local', null],
  ];
  for (const [name, want] of cases) assert.deepEqual(identityDomainOf(name), want, name);
});
