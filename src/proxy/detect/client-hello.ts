/**
 * Reads the two fields the proxy routes on — SNI and ALPN — out of a TLS ClientHello,
 * without any TLS library: detection must decide before a handshake exists.
 */

/** What a ClientHello says about where it wants to go. */
export type ClientHelloInfo =
  | { kind: 'hello'; sni: string | undefined; alpn: readonly string[] }
  | { kind: 'incomplete' }
  | { kind: 'invalid' };

/** TLS record content type of a handshake message. */
const RECORD_HANDSHAKE = 0x16;
/** Handshake message type of a ClientHello. */
const HANDSHAKE_CLIENT_HELLO = 0x01;
/** Largest TLS plaintext record body (RFC 8446 §5.1); anything larger is not TLS. */
const MAX_RECORD = 16384 + 2048;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;

/**
 * Parses the first TLS record of `buf` as a ClientHello. Returns `incomplete` while
 * the record is still arriving, `invalid` for bytes that cannot be a ClientHello.
 * A ClientHello split over several records yields `hello` with what the first record
 * holds (the SNI extension is almost always there).
 */
export function parseClientHello(buf: Uint8Array): ClientHelloInfo {
  if (buf.length < 1) return { kind: 'incomplete' };
  if (buf[0] !== RECORD_HANDSHAKE) return { kind: 'invalid' };
  if (buf.length < 2) return { kind: 'incomplete' };
  if (buf[1] !== 0x03) return { kind: 'invalid' };
  if (buf.length < 5) return { kind: 'incomplete' };
  const recordLen = u16(buf, 3);
  if (recordLen === 0 || recordLen > MAX_RECORD) return { kind: 'invalid' };
  if (buf.length < 5 + recordLen) return { kind: 'incomplete' };
  const end = 5 + recordLen;
  let p = 5;
  if (buf[p] !== HANDSHAKE_CLIENT_HELLO) return { kind: 'invalid' };
  if (p + 4 > end) return { kind: 'invalid' };
  const helloLen = (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
  const helloEnd = Math.min(end, p + 4 + helloLen);
  p += 4;
  // legacy_version (2) + random (32)
  p += 34;
  if (p + 1 > helloEnd) return fragment(helloLen, recordLen);
  p += 1 + buf[p]!; // session id
  if (p + 2 > helloEnd) return fragment(helloLen, recordLen);
  p += 2 + u16(buf, p); // cipher suites
  if (p + 1 > helloEnd) return fragment(helloLen, recordLen);
  p += 1 + buf[p]!; // compression methods
  if (p + 2 > helloEnd) return { kind: 'hello', sni: undefined, alpn: [] };
  const extEnd = Math.min(helloEnd, p + 2 + u16(buf, p));
  p += 2;
  let sni: string | undefined;
  const alpn: string[] = [];
  while (p + 4 <= extEnd) {
    const type = u16(buf, p);
    const len = u16(buf, p + 2);
    const body = p + 4;
    const bodyEnd = Math.min(extEnd, body + len);
    if (type === EXT_SERVER_NAME) sni = readServerName(buf, body, bodyEnd);
    else if (type === EXT_ALPN) readAlpn(buf, body, bodyEnd, alpn);
    p = body + len;
  }
  return { kind: 'hello', sni, alpn };
}

/** A ClientHello that claims more bytes than its record holds is fragmented, not garbage. */
function fragment(helloLen: number, recordLen: number): ClientHelloInfo {
  return helloLen + 4 > recordLen ? { kind: 'hello', sni: undefined, alpn: [] } : { kind: 'invalid' };
}

function u16(buf: Uint8Array, p: number): number {
  return (buf[p]! << 8) | buf[p + 1]!;
}

function readServerName(buf: Uint8Array, p: number, end: number): string | undefined {
  if (p + 2 > end) return undefined;
  const listEnd = Math.min(end, p + 2 + u16(buf, p));
  p += 2;
  while (p + 3 <= listEnd) {
    const type = buf[p]!;
    const len = u16(buf, p + 1);
    p += 3;
    if (p + len > listEnd) return undefined;
    if (type === 0) return Buffer.from(buf.buffer, buf.byteOffset + p, len).toString('latin1');
    p += len;
  }
  return undefined;
}

function readAlpn(buf: Uint8Array, p: number, end: number, out: string[]): void {
  if (p + 2 > end) return;
  const listEnd = Math.min(end, p + 2 + u16(buf, p));
  p += 2;
  while (p + 1 <= listEnd) {
    const len = buf[p]!;
    p += 1;
    if (p + len > listEnd) return;
    out.push(Buffer.from(buf.buffer, buf.byteOffset + p, len).toString('latin1'));
    p += len;
  }
}
