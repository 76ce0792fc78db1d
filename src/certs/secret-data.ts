import type { Secret } from '../api/index.ts';

/** The text of `key` in a Secret's base64 `data`, or undefined when absent or empty. */
export function secretText(secret: Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  if (value === undefined || value === '') return undefined;
  return Buffer.from(value, 'base64').toString('utf8');
}

/** base64 of a text, as Secret `data` holds it. */
export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
