import { z } from 'zod';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** True for standard, padded base64, as Kubernetes stores Secret and ConfigMap bytes. */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64.test(text);
}

/** A field of base64 bytes. */
export const base64Field = z.string().refine(isBase64, { error: 'must be base64 (standard alphabet, padded)' });

/** Keys of Secret and ConfigMap data: file names. */
export const dataKey = z.string().regex(/^[-._a-zA-Z0-9]+$/, {
  error: 'key must be letters, digits, "-", "_" or "."',
});
