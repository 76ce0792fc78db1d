/**
 * A tiny DER writer: the handful of ASN.1 types a PKCS#10 request for one DNS name
 * needs (SEQUENCE, SET, INTEGER, OBJECT IDENTIFIER, UTF8String, OCTET STRING, BIT
 * STRING, context tags), and nothing to read. The sidecar signs one CSR per life;
 * @peculiar/x509 and its ASN.1 schemas cost it ~7 MB of memory for that alone
 * (bench/README.md), a few lines of DER cost nothing.
 */

/** DER's definite length: short form under 128, else 0x80 | byte count, then big-endian bytes. */
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: `tag` (a full identifier octet, class and constructed bit included), its length, `content`. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

/** SEQUENCE of already-encoded elements. */
export function sequence(...items: Uint8Array[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

/**
 * SET of already-encoded elements. DER orders a SET OF by encoding; the callers
 * here only ever put one element in a set, so there is nothing to sort.
 */
export function set(item: Uint8Array): Buffer {
  return tlv(0x31, item);
}

/** A small non-negative INTEGER (version numbers). */
export function integer(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7f) throw new RangeError(`DER integer ${n} is outside 0..127`);
  return tlv(0x02, Buffer.from([n]));
}

/** OBJECT IDENTIFIER from dotted text (`2.5.4.3`): first two arcs as 40a+b, then base-128 arcs. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`Cannot encode OID "${dotted}"`);
  const out: number[] = [];
  const first = (arcs[0] as number) * 40 + (arcs[1] as number);
  for (const arc of [first, ...arcs.slice(2)]) {
    const groups = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTF8String. */
export function utf8String(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

/** OCTET STRING. */
export function octetString(bytes: Uint8Array): Buffer {
  return tlv(0x04, bytes);
}

/** BIT STRING of whole bytes (zero unused bits), as signatures are. */
export function bitString(bytes: Uint8Array): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

/** A constructed context-specific tag `[n]` (n < 31): EXPLICIT tagging, or IMPLICIT over a SET or SEQUENCE. */
export function contextConstructed(n: number, content: Uint8Array): Buffer {
  return tlv(0xa0 | contextNumber(n), content);
}

/** A primitive context-specific tag `[n]` (n < 31): IMPLICIT over a string, as GeneralName's dNSName [2]. */
export function contextPrimitive(n: number, content: Uint8Array): Buffer {
  return tlv(0x80 | contextNumber(n), content);
}

function contextNumber(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`DER context tag [${n}] is outside 0..30`);
  return n;
}
