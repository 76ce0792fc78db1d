/**
 * HTTP/1 message heads, parsed just enough to route and frame: the request line or
 * status, and the headers that decide framing (Content-Length, Transfer-Encoding),
 * connection reuse (Connection) and routing (Host). Everything else passes through
 * as the bytes the client sent.
 */

/** How a message body is delimited. `eof`: until the connection closes (responses only). */
export type BodyKind = 'none' | 'length' | 'chunked' | 'eof';

/** A parsed request head; offsets are into the buffer it was parsed from. */
export type RequestHead = {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  host: string | undefined;
  body: BodyKind;
  length: number;
  /** The client wants the connection closed after this exchange. */
  close: boolean;
  /** Connection: upgrade with an Upgrade header (WebSocket): a 101 turns the connection into a tunnel. */
  upgrade: boolean;
  /** Offset of the CRLF ending the request line. */
  lineEnd: number;
  /** Offset of the first byte after the blank line. */
  end: number;
  /** Byte ranges [start, end) of header lines the proxy removes (hop-by-hop or its own). */
  drop: number[] | undefined;
};

/** A parsed response head. */
export type ResponseHead = {
  status: number;
  body: BodyKind;
  length: number;
  close: boolean;
  end: number;
};

/** Why a head was refused; the session answers 400 (or 431 for `too_large`). */
export type HeadError = { error: 'malformed' | 'too_large' };

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** Offset just past the blank line ending a head in `buf`, or -1 when it has not arrived. */
export function headEnd(buf: Buffer): number {
  const i = buf.indexOf(CRLFCRLF);
  return i < 0 ? -1 : i + 4;
}

/**
 * Parses the request head occupying `buf[0, end)`. `dropNames` are lower-case header
 * names whose lines are recorded in `drop` (for example `l5d-client-id`, which only
 * the inbound proxy may set).
 */
export function parseRequestHead(buf: Buffer, end: number, dropNames: readonly string[]): RequestHead | HeadError {
  const s = buf.toString('latin1', 0, end - 2);
  const lineEnd = s.indexOf('\r\n');
  if (lineEnd < 0) return { error: 'malformed' };
  const sp1 = s.indexOf(' ');
  const sp2 = s.lastIndexOf(' ', lineEnd);
  if (sp1 <= 0 || sp2 <= sp1 + 1) return { error: 'malformed' };
  const version = s.slice(sp2 + 1, lineEnd);
  let minor: number;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else return { error: 'malformed' };
  const head: RequestHead = {
    method: s.slice(0, sp1), target: s.slice(sp1 + 1, sp2), minor, host: undefined,
    body: 'none', length: 0, close: minor === 0, upgrade: false, lineEnd, end, drop: undefined,
  };
  let hasUpgradeHeader = false;
  let connUpgrade = false;
  let chunked = false;
  let length = -1;
  const r = parseHeaders(s, lineEnd + 2, (name, value, start, stop) => {
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') head.host = value;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') hasUpgradeHeader = true;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          const v = value.toLowerCase();
          if (v.includes('close')) head.close = true;
          else if (v.includes('keep-alive')) head.close = false;
          if (v.includes('upgrade')) connUpgrade = true;
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          const n = parseLength(value);
          if (n < 0 || (length >= 0 && n !== length)) return false;
          length = n;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          if (!value.toLowerCase().endsWith('chunked')) return false;
          chunked = true;
        }
        break;
    }
    if (dropNames.length > 0 && dropNames.includes(name.toLowerCase())) (head.drop ??= []).push(start, stop);
    return true;
  });
  // Both Content-Length and chunked is how request smuggling starts: refuse it.
  if (!r || (chunked && length >= 0)) return { error: 'malformed' };
  if (chunked) head.body = 'chunked';
  else if (length > 0) { head.body = 'length'; head.length = length; }
  head.upgrade = hasUpgradeHeader && connUpgrade;
  return head;
}

/**
 * Parses the response head occupying `buf[0, end)` for a request with `method`
 * (HEAD responses have no body whatever their headers say).
 */
export function parseResponseHead(buf: Buffer, end: number, method: string): ResponseHead | HeadError {
  const s = buf.toString('latin1', 0, end - 2);
  if (!s.startsWith('HTTP/1.')) return { error: 'malformed' };
  const status = Number(s.slice(9, 12));
  if (!Number.isInteger(status) || status < 100 || status > 999) return { error: 'malformed' };
  const lineEnd = s.indexOf('\r\n');
  const head: ResponseHead = { status, body: 'eof', length: 0, close: s.charCodeAt(7) === 0x30, end };
  let chunked = false;
  let length = -1;
  const r = parseHeaders(s, lineEnd < 0 ? s.length : lineEnd + 2, (name, value) => {
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      const v = value.toLowerCase();
      if (v.includes('close')) head.close = true;
      else if (v.includes('keep-alive')) head.close = false;
    } else if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const n = parseLength(value);
      if (n < 0 || (length >= 0 && n !== length)) return false;
      length = n;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      chunked = value.toLowerCase().endsWith('chunked');
    }
    return true;
  });
  if (!r) return { error: 'malformed' };
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) head.body = 'none';
  else if (chunked) head.body = 'chunked';
  else if (length >= 0) { head.body = length === 0 ? 'none' : 'length'; head.length = length; }
  else head.close = true; // Delimited by close: the connection cannot be reused.
  return head;
}

type OnHeader = (name: string, value: string, lineStart: number, lineStop: number) => boolean;

function parseHeaders(s: string, pos: number, onHeader: OnHeader): boolean {
  while (pos < s.length) {
    let e = s.indexOf('\r\n', pos);
    if (e < 0) e = s.length;
    const colon = s.indexOf(':', pos);
    // No colon, an empty name, or an obsolete folded line (leading space): malformed.
    if (colon <= pos || colon > e || s.charCodeAt(pos) === 0x20 || s.charCodeAt(pos) === 0x09) return false;
    if (s.charCodeAt(colon - 1) === 0x20) return false;
    if (!onHeader(s.slice(pos, colon), s.slice(colon + 1, e).trim(), pos, Math.min(e + 2, s.length + 2))) return false;
    pos = e + 2;
  }
  return true;
}

function parseLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(v);
}
