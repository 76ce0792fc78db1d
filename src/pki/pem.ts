import { PkiError, PkiErrorCode } from './errors.ts';

/** One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and DER body. */
export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
  /** RFC 1421 headers such as `Proc-Type` and `DEK-Info` (legacy encrypted keys); usually empty. */
  readonly headers: Readonly<Record<string, string>>;
  /** The block as written, BEGIN to END line, for readers that need the headers. */
  readonly text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Encodes DER as PEM with `label`, 64 characters a line as OpenSSL writes it. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** True when the input looks like PEM text rather than DER bytes. */
export function looksLikePem(input: string | Uint8Array): boolean {
  const text = typeof input === 'string' ? input : Buffer.from(input.subarray(0, 4096)).toString('latin1');
  return text.includes('-----BEGIN ');
}

/**
 * Every PEM block in `text`, in order, with any RFC 1421 headers (legacy
 * encrypted keys carry `Proc-Type` and `DEK-Info`). Throws on a damaged body.
 */
export function decodePem(text: string, what: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1] as string;
    let body = m[2] as string;
    const headers: Record<string, string> = {};
    // Headers are "Name: value" lines, ended by a blank line before the base64.
    const split = /^((?:[A-Za-z-]+:[^\n]*\r?\n)+)\r?\n/.exec(body);
    if (split !== null) {
      for (const line of (split[1] as string).split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      body = body.slice(split[0].length);
    }
    const compact = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0 || compact.length === 0) {
      throw new PkiError(PkiErrorCode.badPem, `Check the ${what}: the PEM block "${label}" is damaged (bad base64)`);
    }
    blocks.push({ label, der: new Uint8Array(Buffer.from(compact, 'base64')), headers, text: m[0] });
  }
  const begins = text.match(/-----BEGIN /g)?.length ?? 0;
  if (begins !== blocks.length) {
    throw new PkiError(PkiErrorCode.badPem, `Check the ${what}: a PEM block is cut short (BEGIN without a matching END)`);
  }
  return blocks;
}

/** Bytes of a string-or-bytes input, as text (for PEM) or as is (for DER). */
export function asText(input: string | Uint8Array): string {
  return typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
}
