/**
 * The HPACK static table (RFC 7541 Appendix A) and the lookups the encoder needs,
 * built once at load.
 */

/**
 * RFC 7541 Appendix A as a flat list [name1, value1, name2, value2, …]: entry `i`
 * (1-based, as on the wire) is at positions `2 * (i - 1)` and `2 * (i - 1) + 1`.
 */
export const STATIC_TABLE: readonly string[] = [
  ':authority', '',
  ':method', 'GET',
  ':method', 'POST',
  ':path', '/',
  ':path', '/index.html',
  ':scheme', 'http',
  ':scheme', 'https',
  ':status', '200',
  ':status', '204',
  ':status', '206',
  ':status', '304',
  ':status', '400',
  ':status', '404',
  ':status', '500',
  'accept-charset', '',
  'accept-encoding', 'gzip, deflate',
  'accept-language', '',
  'accept-ranges', '',
  'accept', '',
  'access-control-allow-origin', '',
  'age', '',
  'allow', '',
  'authorization', '',
  'cache-control', '',
  'content-disposition', '',
  'content-encoding', '',
  'content-language', '',
  'content-length', '',
  'content-location', '',
  'content-range', '',
  'content-type', '',
  'cookie', '',
  'date', '',
  'etag', '',
  'expect', '',
  'expires', '',
  'from', '',
  'host', '',
  'if-match', '',
  'if-modified-since', '',
  'if-none-match', '',
  'if-range', '',
  'if-unmodified-since', '',
  'last-modified', '',
  'link', '',
  'location', '',
  'max-forwards', '',
  'proxy-authenticate', '',
  'proxy-authorization', '',
  'range', '',
  'referer', '',
  'refresh', '',
  'retry-after', '',
  'server', '',
  'set-cookie', '',
  'strict-transport-security', '',
  'transfer-encoding', '',
  'user-agent', '',
  'vary', '',
  'via', '',
  'www-authenticate', '',
];

/** Number of static table entries (61); dynamic table indices start after it. */
export const STATIC_TABLE_LENGTH = STATIC_TABLE.length / 2;

/** Name → lowest static index with that name (`:method` → 2). */
export const STATIC_NAME_INDEX: ReadonlyMap<string, number> = new Map(
  // Iterating backwards leaves the lowest index for names listed several times.
  Array.from({ length: STATIC_TABLE_LENGTH }, (_, k) => STATIC_TABLE_LENGTH - k).map(
    (i) => [STATIC_TABLE[2 * (i - 1)]!, i] as const,
  ),
);

/**
 * Name → value → static index of that exact field (`:method` → `POST` → 3). Nested
 * rather than keyed by `name + value`: the encoder looks up every field, and most
 * names are not in the table, so no key string is built per field.
 */
export const STATIC_FIELD_INDEX: ReadonlyMap<string, ReadonlyMap<string, number>> = (() => {
  const byName = new Map<string, Map<string, number>>();
  for (let i = 1; i <= STATIC_TABLE_LENGTH; i++) {
    const name = STATIC_TABLE[2 * (i - 1)]!;
    let byValue = byName.get(name);
    if (byValue === undefined) byName.set(name, (byValue = new Map()));
    byValue.set(STATIC_TABLE[2 * (i - 1) + 1]!, i);
  }
  return byName;
})();
