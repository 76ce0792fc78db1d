/**
 * HTTP/1 message heads, parsed just enough to route and frame: the request line or
 * status, and the headers that decide framing (Content-Length, Transfer-Encoding),
 * connection reuse (Connection) and routing (Host). Everything else passes through
 * as the bytes the client sent.
 */
import { TCHAR } from '../tchar.ts';

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
  /** Byte ranges [start, end) of header lines the proxy removes (hop-by-hop or its own), in order. */
  drop: number[] | undefined;
  /**
   * The `Connection` line (with its CRLF) the forwarded request carries instead of the
   * client's `close`, or undefined. `Connection` is hop-by-hop (RFC 9110 §7.6.1): when the
   * client closes its connection after this exchange, the proxy still keeps its own
   * upstream connection, so the `close` lines are dropped and only their other tokens
   * (plus `keep-alive` for HTTP/1.0) are sent on.
   */
  connection: string | undefined;
};

/** A parsed response head. */
export type ResponseHead = {
  status: number;
  body: BodyKind;
  length: number;
  /** The upstream connection cannot be reused after this response. */
  close: boolean;
  /** The head itself says `Connection: close` (else the proxy adds it when it closes the client). */
  saysClose: boolean;
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
  // The request line by the same byte rule as field lines: a token method and a
  // target of visible bytes. A bare LF, CR or space inside it is where a lenient
  // server behind the proxy would see a second request the proxy never parsed.
  for (let i = 0; i < sp1; i++) if (TCHAR[buf[i]!] !== 1) return { error: 'malformed' };
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = buf[i]!;
    if (c <= 0x20 || c === 0x7f) return { error: 'malformed' };
  }
  const version = s.slice(sp2 + 1, lineEnd);
  let minor: number;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else return { error: 'malformed' };
  const head: RequestHead = {
    method: s.slice(0, sp1), target: s.slice(sp1 + 1, sp2), minor, host: undefined,
    body: 'none', length: 0, close: minor === 0, upgrade: false, lineEnd, end, drop: undefined, connection: undefined,
  };
  /** Ranges of `Connection` lines naming `close`, and their other tokens: rare, so allocated on demand. */
  let closeLines: number[] | undefined;
  let otherTokens: string[] | undefined;
  let hasUpgradeHeader = false;
  let connUpgrade = false;
  let closeSeen = false;
  let chunked = false;
  let length = -1;
  // One pass over the header lines; a string is made only for a header the proxy reads.
  let pos = lineEnd + 2;
  const n = s.length;
  while (pos < n) {
    let e = s.indexOf('\r\n', pos);
    if (e < 0) e = n;
    // `s` is the head in latin1: its offsets are the buffer's.
    const colon = fieldLineColon(buf, pos, e);
    if (colon < 0) return { error: 'malformed' };
    switch (colon - pos) {
      case 4:
        if (nameIs(s, pos, 'host')) head.host = value(s, colon, e);
        break;
      case 7:
        if (nameIs(s, pos, 'upgrade')) hasUpgradeHeader = true;
        break;
      case 10:
        if (nameIs(s, pos, 'connection')) {
          const v = value(s, colon, e).toLowerCase();
          // Whole tokens (`x-closed` is not `close`); `close` in any line wins.
          const t = connectionTokens(v);
          if (t.close) {
            closeSeen = true;
            head.close = true;
            (closeLines ??= []).push(pos, e + 2);
            if (t.rest.length > 0) (otherTokens ??= []).push(...t.rest);
          } else if (t.keepAlive && !closeSeen) head.close = false;
          if (t.upgrade) connUpgrade = true;
        }
        break;
      case 14:
        if (nameIs(s, pos, 'content-length')) {
          const len = parseLength(value(s, colon, e));
          if (len < 0 || (length >= 0 && len !== length)) return { error: 'malformed' };
          length = len;
        }
        break;
      case 17:
        if (nameIs(s, pos, 'transfer-encoding')) {
          // Only a coding list whose last coding is exactly `chunked`, once: anything
          // else (`xchunked`, `chunked, gzip`) frames the body in a way the proxy and a
          // server could read differently.
          if (chunked || !chunkedLast(value(s, colon, e))) return { error: 'malformed' };
          chunked = true;
        }
        break;
    }
    for (let i = 0; i < dropNames.length; i++) {
      const d = dropNames[i]!;
      if (d.length === colon - pos && nameIs(s, pos, d)) {
        (head.drop ??= []).push(pos, e + 2);
        break;
      }
    }
    pos = e + 2;
  }
  // Both Content-Length and chunked is how request smuggling starts: refuse it. So is
  // chunked on HTTP/1.0, which servers may ignore (Go's does) and read the "chunks"
  // as the next request on a pooled connection (RFC 9112 §6.1: treat as faulty).
  if (chunked && (length >= 0 || minor === 0)) return { error: 'malformed' };
  if (chunked) head.body = 'chunked';
  else if (length > 0) { head.body = 'length'; head.length = length; }
  head.upgrade = hasUpgradeHeader && connUpgrade;
  // An upgrade is left as the client sent it: its connection becomes a tunnel anyway.
  if (head.close && !head.upgrade) keepUpstream(head, closeLines, otherTokens);
  return head;
}

/**
 * A lower-case `Connection` value as whole tokens: whether it names `close`,
 * `keep-alive`, `upgrade`, and its tokens other than `close` and `keep-alive`.
 */
function connectionTokens(v: string): { close: boolean; keepAlive: boolean; upgrade: boolean; rest: string[] } {
  const r = { close: false, keepAlive: false, upgrade: false, rest: [] as string[] };
  for (const raw of v.split(',')) {
    const t = raw.trim();
    if (t === 'close') r.close = true;
    else if (t === 'keep-alive') r.keepAlive = true;
    else if (t !== '') {
      if (t === 'upgrade') r.upgrade = true;
      r.rest.push(t);
    }
  }
  return r;
}

/**
 * Rewrites a closing request's forwarded `Connection` so the upstream connection stays
 * open: the lines naming `close` join `drop` (in order, after the ones already there
 * are merged) and `connection` carries their other tokens, plus `keep-alive` for an
 * HTTP/1.0 request, whose default is to close.
 */
function keepUpstream(head: RequestHead, closeLines: number[] | undefined, otherTokens: string[] | undefined): void {
  if (closeLines !== undefined) {
    const drop = head.drop ?? [];
    for (let i = 0; i < closeLines.length; i += 2) {
      const start = closeLines[i]!;
      let at = 0;
      while (at < drop.length && drop[at]! < start) at += 2;
      if (drop[at] !== start) drop.splice(at, 0, start, closeLines[i + 1]!);
    }
    head.drop = drop;
  }
  const tokens = head.minor === 0 ? ['keep-alive', ...(otherTokens ?? [])] : otherTokens;
  if (tokens !== undefined && tokens.length > 0) head.connection = `Connection: ${tokens.join(', ')}\r\n`;
}

/**
 * Parses the response head occupying `buf[0, end)` for a request with `method`
 * (HEAD responses have no body whatever their headers say).
 */
export function parseResponseHead(buf: Buffer, end: number, method: string): ResponseHead | HeadError {
  const s = buf.toString('latin1', 0, end - 2);
  if (!s.startsWith('HTTP/1.')) return { error: 'malformed' };
  const status = statusCode(s);
  if (status < 0) return { error: 'malformed' };
  const lineEnd = s.indexOf('\r\n');
  // The reason phrase: tabs, spaces and visible bytes only. A bare CR or LF there
  // would be a line break to the client, a header the proxy never saw.
  for (let i = 12, stop = lineEnd < 0 ? s.length : lineEnd; i < stop; i++) {
    const c = buf[i]!;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return { error: 'malformed' };
  }
  const head: ResponseHead = { status, body: 'eof', length: 0, close: s.charCodeAt(7) === 0x30, saysClose: false, end };
  let chunked = false;
  let length = -1;
  const n = s.length;
  let pos = lineEnd < 0 ? n : lineEnd + 2;
  while (pos < n) {
    let e = s.indexOf('\r\n', pos);
    if (e < 0) e = n;
    // `s` is the head in latin1: its offsets are the buffer's.
    const colon = fieldLineColon(buf, pos, e);
    if (colon < 0) return { error: 'malformed' };
    const len = colon - pos;
    if (len === 10 && nameIs(s, pos, 'connection')) {
      const t = connectionTokens(value(s, colon, e).toLowerCase());
      if (t.close) head.close = head.saysClose = true;
      else if (t.keepAlive && !head.saysClose) head.close = false;
    } else if (len === 14 && nameIs(s, pos, 'content-length')) {
      const l = parseLength(value(s, colon, e));
      if (l < 0 || (length >= 0 && l !== length)) return { error: 'malformed' };
      length = l;
    } else if (len === 17 && nameIs(s, pos, 'transfer-encoding')) {
      chunked = chunkedLast(value(s, colon, e));
    }
    pos = e + 2;
  }
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) head.body = 'none';
  else if (chunked) head.body = 'chunked';
  else if (length >= 0) { head.body = length === 0 ? 'none' : 'length'; head.length = length; }
  else head.close = true; // Delimited by close: the connection cannot be reused.
  return head;
}

/**
 * The response head `buf[0, end)` rewritten for a client connection the proxy closes
 * after it: `Connection` and `Keep-Alive` lines removed and `Connection: close` (with
 * any other tokens they named) added, so the client does not pool a connection about to
 * close and send its next request into it. Only on the closing path, once per client
 * connection: a plain copy is fine.
 */
export function closingResponseHead(buf: Buffer, end: number): Buffer {
  const s = buf.toString('latin1', 0, end - 2);
  const lineEnd = s.indexOf('\r\n');
  if (lineEnd < 0) return Buffer.from(`${s}\r\nConnection: close\r\n\r\n`, 'latin1');
  let out = s.slice(0, lineEnd + 2);
  let tokens = 'close';
  let pos = lineEnd + 2;
  const n = s.length;
  while (pos < n) {
    let e = s.indexOf('\r\n', pos);
    if (e < 0) e = n;
    const colon = s.indexOf(':', pos);
    const len = colon < 0 || colon > e ? -1 : colon - pos;
    if (len === 10 && nameIs(s, pos, 'connection')) {
      for (const raw of value(s, colon, e).split(',')) {
        const t = raw.trim();
        const lower = t.toLowerCase();
        if (lower !== 'close' && lower !== 'keep-alive' && t !== '') tokens += `, ${t}`;
      }
    } else if (!(len === 10 && nameIs(s, pos, 'keep-alive'))) {
      out += s.slice(pos, e + 2);
    }
    pos = e + 2;
  }
  return Buffer.from(`${out}Connection: ${tokens}\r\n\r\n`, 'latin1');
}


/**
 * The colon of the field line `b[pos, e)` (a header or trailer line, without its CRLF),
 * or -1 when the line is malformed: its name is empty or not a token (so an obsolete
 * folded line, a space or tab before the colon, or no colon at all), or its value holds
 * a NUL, CR or LF. The one rule for every field line the proxy forwards: a bare CR or LF
 * is a line break to some parsers and not to others, which is how a smuggled header or
 * request gets past a proxy that reads the line differently from the server behind it.
 * Bytes, not a string: indexing a Buffer keeps this scan of every head line about as
 * cheap as the looser check it replaced; charCodeAt over the head string cost ~20 %
 * of head parsing.
 */
export function fieldLineColon(b: Uint8Array, pos: number, e: number): number {
  let i = pos;
  while (i < e && TCHAR[b[i]!] === 1) i++;
  if (i === pos || i === e || b[i] !== 0x3a) return -1;
  const colon = i;
  for (i++; i < e; i++) {
    const c = b[i]!;
    if (c < 0x0e && (c === 0x00 || c === 0x0d || c === 0x0a)) return -1;
  }
  return colon;
}

/** True when the header name at `s[pos…]` equals `lower` (lower-case ASCII, same length checked by the caller) ignoring case. */
function nameIs(s: string, pos: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = s.charCodeAt(pos + i);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The value of the header line whose colon is at `colon` and which ends at `e`,
 * without the spaces and tabs around it (RFC 9110's OWS; not JavaScript's trim(),
 * which also takes vertical tabs, form feeds and no-break spaces that a server
 * would see as part of the value).
 */
function value(s: string, colon: number, e: number): string {
  return trimOws(s, colon + 1, e);
}

/** `s[a, b)` without the spaces and tabs at either end. */
function trimOws(s: string, a: number, b: number): string {
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return s.slice(a, b);
}

/**
 * True when a Transfer-Encoding value's codings end with `chunked` and name it only
 * there (RFC 9112 §6.1: chunked is applied once, last), compared as whole tokens
 * without the spaces and tabs around them.
 */
function chunkedLast(v: string): boolean {
  const codings = v.toLowerCase().split(',');
  for (let i = 0; i < codings.length; i++) {
    const t = codings[i]!;
    if ((trimOws(t, 0, t.length) === 'chunked') !== (i === codings.length - 1)) return false;
  }
  return true;
}

/** The three-digit status of a status line, or -1. */
function statusCode(s: string): number {
  if (s.length < 12) return -1;
  if (s.length > 12 && s.charCodeAt(12) !== 0x20 && s.charCodeAt(12) !== 0x0d) return -1;
  let v = 0;
  for (let i = 9; i < 12; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v < 100 ? -1 : v;
}

function parseLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(v);
}
