/**
 * RFC 9110 `tchar`, the bytes of a token (a method, a field name), indexed by byte:
 * 1 for a token byte, 0 otherwise. A field name made only of them cannot start with
 * whitespace (an obsolete folded line) or carry whitespace before its colon. Shared
 * by protocol detection and the HTTP/1 head parser, so both read a method alike.
 */
export const TCHAR: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const c of "!#$%&'*+-.^_`|~") t[c.charCodeAt(0)] = 1;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = t[c | 0x20] = 1;
  return t;
})();
