/**
 * The one place that prepares `@peculiar/x509`: it needs `reflect-metadata` loaded
 * before it (its ASN.1 schemas use decorators) and a WebCrypto provider. We hand it
 * node's own WebCrypto so that keys made anywhere in weft are the same objects.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Crypto } from './web-crypto-types.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

/** Node's WebCrypto, typed as the DOM `Crypto` that `@peculiar/x509` expects. */
export const crypto = webcrypto as unknown as Crypto;
