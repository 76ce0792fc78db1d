/**
 * Protocol detection: a pure function over the first bytes of a connection.
 *
 * Biases towards availability over precision: the proxy reads what the client sent
 * first (bounded by `DETECT_CAPACITY` and a timeout), then decides; anything it does
 * not recognise is forwarded untouched as opaque TCP rather than refused.
 */
import { TCHAR } from '../tchar.ts';
import { parseClientHello } from './client-hello.ts';

/** What the first bytes of a connection are. `incomplete`: read more, then ask again. */
export type Detection =
  | { kind: 'tls'; sni: string | undefined; alpn: readonly string[] }
  | { kind: 'http1' }
  | { kind: 'h2' }
  | { kind: 'opaque' }
  | { kind: 'incomplete' };

/**
 * The label value recorded for each accepted connection's detection. `timeout`: the
 * client sent too little before the detect timeout; `skipped`: an opaque port.
 */
export type DetectOutcome = 'tls' | 'mesh_tls' | 'http1' | 'h2' | 'opaque' | 'timeout' | 'skipped';

/**
 * Most bytes detection buffers before deciding: one full TLS record (16 KiB plus its
 * 5-byte header), so a whole ClientHello fits and an HTTP/1 request line of a sane
 * length is seen in full.
 */
export const DETECT_CAPACITY = 16 * 1024 + 5;

/** The HTTP/2 connection preface (RFC 9113 §3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Longest method token we accept in a request line (`MKCALENDAR`, `VERSION-CONTROL`). */
const MAX_METHOD = 24;

/**
 * Decides what `buf` (the bytes received so far) is. Never throws; `incomplete`
 * only while `buf` is shorter than `DETECT_CAPACITY` and still ambiguous.
 */
export function detect(buf: Uint8Array): Detection {
  const d = detectPrefix(buf);
  if (d.kind === 'incomplete' && buf.length >= DETECT_CAPACITY) return { kind: 'opaque' };
  return d;
}

function detectPrefix(buf: Uint8Array): Detection {
  if (buf.length === 0) return { kind: 'incomplete' };
  const b0 = buf[0]!;
  if (b0 === 0x16) {
    const hello = parseClientHello(buf);
    if (hello.kind === 'hello') return { kind: 'tls', sni: hello.sni, alpn: hello.alpn };
    if (hello.kind === 'incomplete') return hello;
    return { kind: 'opaque' };
  }
  if (b0 === 0x50 /* P */) {
    const n = Math.min(buf.length, H2_PREFACE.length);
    if (H2_PREFACE.compare(buf, 0, n, 0, n) === 0) {
      return n === H2_PREFACE.length ? { kind: 'h2' } : { kind: 'incomplete' };
    }
  }
  return detectHttp1(buf);
}

/**
 * `METHOD SP target SP HTTP/1.x CRLF` with a token method, after any empty lines:
 * servers skip CRLFs before a request line (RFC 9112 §2.2), so bytes that start so
 * are HTTP to them and must be to the proxy too (the head parser then refuses them),
 * never opaque bytes that carry their own `l5d-client-id` past it.
 */
function detectHttp1(buf: Uint8Array): Detection {
  let start = 0;
  while (start < buf.length && start < MAX_LEADING_EMPTY && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start === buf.length) return start === MAX_LEADING_EMPTY ? { kind: 'opaque' } : { kind: 'incomplete' };
  let i = start;
  for (; i < buf.length && i - start <= MAX_METHOD; i++) {
    const c = buf[i]!;
    if (c === 0x20) break;
    // Methods are tokens, in any case: servers accept `get` as a method of its own, so
    // a request spelled so must be parsed (its `l5d-client-id` dropped and set by the
    // proxy), not passed through as opaque bytes.
    if (TCHAR[c] !== 1) return { kind: 'opaque' };
  }
  if (i === start || i - start > MAX_METHOD) return { kind: 'opaque' };
  if (i === buf.length) return { kind: 'incomplete' };
  // Find the end of the request line; reject control bytes on the way (binary data).
  for (let j = i + 1; j < buf.length; j++) {
    const c = buf[j]!;
    if (c === 0x0a) {
      const lineEnd = j > 0 && buf[j - 1] === 0x0d ? j - 1 : j;
      return endsWithHttp1(buf, lineEnd) ? { kind: 'http1' } : { kind: 'opaque' };
    }
    if ((c < 0x20 && c !== 0x0d) || c === 0x7f) return { kind: 'opaque' };
  }
  return { kind: 'incomplete' };
}

/** How many CR and LF bytes may come before a request line. */
const MAX_LEADING_EMPTY = 8;

const HTTP1_SUFFIX = Buffer.from(' HTTP/1.', 'latin1');

function endsWithHttp1(buf: Uint8Array, lineEnd: number): boolean {
  const start = lineEnd - HTTP1_SUFFIX.length - 1;
  if (start < 1) return false;
  if (HTTP1_SUFFIX.compare(buf, start, start + HTTP1_SUFFIX.length) !== 0) return false;
  const minor = buf[lineEnd - 1];
  return minor === 0x30 || minor === 0x31;
}

