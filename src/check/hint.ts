/** Where check hints point: sections of docs/check.md, one per check. */
export const DOCS = 'docs/check.md';

/** The docs link of a hint anchor: `docs/check.md#issuer-expiry`. */
export function hint(anchor: string): string {
  return `${DOCS}#${anchor}`;
}
