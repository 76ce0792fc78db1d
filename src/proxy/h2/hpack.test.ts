import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderListTooLargeError, HpackDecoder, HpackEncoder, HpackError } from './hpack.ts';
import {
  HUFFMAN_CODES,
  HUFFMAN_EOS,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  huffmanMaxDecodedLength,
} from './hpack-huffman.ts';
import { STATIC_FIELD_INDEX, STATIC_NAME_INDEX, STATIC_TABLE, STATIC_TABLE_LENGTH } from './hpack-static-table.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Runs blocks through one decoder, checking each list and the table size after it. */
function decodeAll(decoder: HpackDecoder, steps: readonly (readonly [string, readonly string[], number])[]): void {
  for (const [block, want, tableSize] of steps) {
    assert.deepEqual(decoder.decode(hex(block)), want, block);
    assert.equal(decoder.tableSize, tableSize, `table size after ${block}`);
  }
}

// RFC 7541 Appendix C.3–C.6 header lists.
const REQ1 = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'];
const REQ2 = [...REQ1, 'cache-control', 'no-cache'];
const REQ3 = [':method', 'GET', ':scheme', 'https', ':path', '/index.html', ':authority', 'www.example.com', 'custom-key', 'custom-value'];
const RESP1 = [':status', '302', 'cache-control', 'private', 'date', 'Mon, 21 Oct 2013 20:13:21 GMT', 'location', 'https://www.example.com'];
const RESP2 = [':status', '307', ...RESP1.slice(2)];
const RESP3 = [
  ':status', '200', 'cache-control', 'private', 'date', 'Mon, 21 Oct 2013 20:13:22 GMT', 'location', 'https://www.example.com',
  'content-encoding', 'gzip', 'set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
];

test('HpackDecoder decodes the RFC 7541 C.2 single-field examples', () => {
  decodeAll(new HpackDecoder(65536), [['400a637573746f6d2d6b65790d637573746f6d2d686561646572', ['custom-key', 'custom-header'], 55]]);
  decodeAll(new HpackDecoder(65536), [['040c2f73616d706c652f70617468', [':path', '/sample/path'], 0]]);
  decodeAll(new HpackDecoder(65536), [['100870617373776f726406736563726574', ['password', 'secret'], 0]]);
  decodeAll(new HpackDecoder(65536), [['82', [':method', 'GET'], 0]]);
});

test('HpackDecoder decodes the RFC 7541 C.3 requests without Huffman on one connection', () => {
  decodeAll(new HpackDecoder(65536), [
    ['828684410f7777772e6578616d706c652e636f6d', REQ1, 57],
    ['828684be58086e6f2d6361636865', REQ2, 110],
    ['828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565', REQ3, 164],
  ]);
});

test('HpackDecoder decodes the RFC 7541 C.4 requests with Huffman on one connection', () => {
  const decoder = new HpackDecoder(65536);
  decodeAll(decoder, [
    ['828684418cf1e3c2e5f23a6ba0ab90f4ff', REQ1, 57],
    ['828684be5886a8eb10649cbf', REQ2, 110],
    ['828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf', REQ3, 164],
  ]);
  assert.equal(decoder.tableLength, 3);
});

test('HpackDecoder decodes the RFC 7541 C.5 responses with evictions from a 256-byte table', () => {
  decodeAll(new HpackDecoder(65536, 256), [
    [
      '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54' +
        '6e1768747470733a2f2f7777772e6578616d706c652e636f6d',
      RESP1,
      222,
    ],
    ['4803333037c1c0bf', RESP2, 222],
    [
      '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f' +
        '3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
      RESP3,
      215,
    ],
  ]);
});

test('HpackDecoder decodes the RFC 7541 C.6 Huffman responses with evictions from a 256-byte table', () => {
  const decoder = new HpackDecoder(65536, 256);
  decodeAll(decoder, [
    ['488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3', RESP1, 222],
    ['4883640effc1c0bf', RESP2, 222],
    [
      '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
      RESP3,
      215,
    ],
  ]);
  assert.equal(decoder.tableLength, 3);
});

test('HpackDecoder reads multi-byte integers (RFC 7541 C.1) in indices, lengths and size updates', () => {
  // C.1.2: 1337 with a 5-bit prefix is 1f 9a 0a; as a size update it is accepted under a 4096 limit.
  const decoder = new HpackDecoder(65536);
  assert.deepEqual(decoder.decode(hex('3f9a0a 82')), [':method', 'GET']);
  // 4096 exactly (31 + 97 + 31·128), the advertised maximum, is allowed.
  assert.deepEqual(decoder.decode(hex('3fe11f')), []);
  // A value length of 300: 7f ad 01 (127 + 45 + 1·128).
  const long = 'v'.repeat(300);
  const block = Buffer.concat([hex('0003782d61 7fad01'), Buffer.from(long, 'latin1')]);
  assert.deepEqual(decoder.decode(block), ['x-a', long]);
  // Zero-valued continuation bytes are legal as long as there are at most five.
  assert.deepEqual(decoder.decode(hex('3f80808080 00 82')), [':method', 'GET']);
});

test('HpackEncoder writes integers at every prefix boundary and they decode back', () => {
  const encoder = new HpackEncoder({ maxTableSize: 0 });
  const decoder = new HpackDecoder(1 << 20);
  for (const length of [0, 1, 126, 127, 128, 254, 255, 16383, 16384, 16510, 70000]) {
    const value = 'y'.repeat(length);
    assert.deepEqual(decoder.decode(encoder.encode(['x-len', value])), ['x-len', value], `length ${length}`);
  }
  // C.1.3: 42 on an 8-bit boundary needs no continuation; our 7-bit lengths: 42 → 2a.
  assert.deepEqual([...encoder.encode(['x', 'y'.repeat(42)]).subarray(0, 4)], [0x00, 0x01, 0x78, 0x2a]);
  // 1337 (RFC 7541 C.1.2's value) as a 7-bit length: 7f, 1210 = ba 09.
  assert.deepEqual([...encoder.encode(['x', 'y'.repeat(1337)]).subarray(3, 6)], [0x7f, 0xba, 0x09]);
});

const malformed: readonly (readonly [string, string, RegExp])[] = [
  ['an indexed field with index 0', '80', /index "0"/],
  ['an index beyond the dynamic table', 'be', /beyond the table/],
  ['a literal name index beyond the table', '7e0161', /beyond the table/],
  ['a block ending inside an integer prefix run', '3f', /inside an integer/],
  ['a block ending inside an integer continuation', 'ff80', /inside an integer/],
  ['an integer above 2^31 - 1', '3fffffffff0f', /exceeds 2\^31/],
  ['an over-long integer encoding', '3f808080808000', /too long/],
  ['a block ending before the name string', '00', /before a string/],
  ['a block ending before the value string', '0001 61', /before a string/],
  ['a string longer than the block', '000561626364', /longer than the rest/],
  ['a string length far beyond the block', '007fffffff7f', /longer than the rest/],
  ['a string length of exactly 2^31 - 1', '007f80ffffff07', /"2147483647" is longer than the rest/],
  ['a Huffman string containing EOS', '0001 61 84ffffffff', /Huffman/],
  ['Huffman padding longer than 7 bits', '0001 61 821fff', /Huffman/],
  ['Huffman padding that is not all ones', '0001 61 8118', /Huffman/],
  ['a Huffman string that is only a full byte of padding', '0001 61 81ff', /Huffman/],
  ['a size update after a field', '8220', /after a header field/],
  ['a size update above the advertised size', '3fe21f', /exceeds the advertised "4096"/],
];

for (const [what, block, message] of malformed) {
  test(`HpackDecoder rejects ${what} with HpackError`, () => {
    assert.throws(() => new HpackDecoder(65536).decode(hex(block)), (err: unknown) => {
      assert.ok(err instanceof HpackError, String(err));
      assert.equal(err.code, 'WEFT_ERR_HPACK');
      assert.match(err.message, message);
      return true;
    });
  });
}

test('HpackDecoder accepts size updates at the start of a block and evicts to the new size', () => {
  const decoder = new HpackDecoder(65536);
  decoder.decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'));
  assert.equal(decoder.tableSize, 55);
  // Two updates (down to 0, back to 4096) are allowed before the first field.
  assert.deepEqual(decoder.decode(hex('20 3fe11f 82')), [':method', 'GET']);
  assert.equal(decoder.tableLength, 0);
  assert.throws(() => decoder.decode(hex('be')), HpackError);
});

test('HpackDecoder requires a size update after the advertised table size was lowered', () => {
  const decoder = new HpackDecoder(65536);
  decoder.decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'));
  decoder.setMaxTableSize(0);
  assert.throws(() => decoder.decode(hex('82')), /must start with a dynamic table size update/);
  const next = new HpackDecoder(65536);
  next.decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'));
  next.setMaxTableSize(0);
  assert.deepEqual(next.decode(hex('20 82')), [':method', 'GET']);
  assert.equal(next.tableSize, 0);
  assert.throws(() => next.decode(hex('21')), /exceeds the advertised "0"/);
});

test('HpackDecoder empties the table for an entry larger than the table and does not add it', () => {
  const decoder = new HpackDecoder(65536, 64);
  decoder.decode(hex('4001610162')); // a: b, 34 bytes
  assert.equal(decoder.tableLength, 1);
  const big = 'z'.repeat(40);
  const block = Buffer.concat([hex('40016128'), Buffer.from(big, 'latin1')]);
  assert.deepEqual(decoder.decode(block), ['a', big]);
  assert.equal(decoder.tableLength, 0);
  assert.equal(decoder.tableSize, 0);
});

test('HpackDecoder throws HeaderListTooLargeError and keeps its table in sync for the next block', () => {
  // Limit 100: custom-key: custom-header is 55, k2: v2 is 36, twice: 127 bytes.
  const decoder = new HpackDecoder(100);
  const block = hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572 40026b32 0276 32 be');
  assert.throws(() => decoder.decode(block), (err: unknown) => {
    assert.ok(err instanceof HeaderListTooLargeError, String(err));
    assert.equal(err.code, 'WEFT_ERR_HEADER_LIST_TOO_LARGE');
    assert.equal(err.size, 55 + 36 + 36);
    assert.equal(err.limit, 100);
    return true;
  });
  // Both literals were indexed: 62 is k2: v2, 63 custom-key: custom-header.
  assert.equal(decoder.tableLength, 2);
  assert.deepEqual(decoder.decode(hex('be bf')), ['k2', 'v2', 'custom-key', 'custom-header']);
});

test('HpackDecoder decodes a Uint8Array view into a larger buffer', () => {
  const backing = new Uint8Array([0xff, 0x82, 0x84, 0xff]);
  assert.deepEqual(new HpackDecoder(1000).decode(backing.subarray(1, 3)), [':method', 'GET', ':path', '/']);
});

test('HpackEncoder without a table (maxTableSize 0) starts its first block, and only that one, with a size update to 0', () => {
  const encoder = new HpackEncoder({ maxTableSize: 0 });
  assert.deepEqual([...encoder.encode([':method', 'GET'])], [0x20, 0x82]);
  assert.deepEqual([...encoder.encode([':method', 'GET'])], [0x82]);
  assert.deepEqual([...new HpackEncoder({ maxTableSize: 0 }).encode([])], [0x20]);
  const decoder = new HpackDecoder(1000);
  assert.deepEqual(decoder.decode(new HpackEncoder({ maxTableSize: 0 }).encode([':path', '/x'])), [':path', '/x']);
  assert.equal(decoder.tableSize, 0);
  // A table-less encoder answers a larger peer setting with its cap, 0, and stays empty.
  encoder.setMaxTableSize(65536);
  assert.deepEqual([...encoder.encode(['x-a', 'b'])], [0x20, 0x00, 0x03, 0x78, 0x2d, 0x61, 0x01, 0x62]);
  assert.equal(encoder.tableLength, 0);
});

test('HpackEncoder without a table uses indexed fields, indexed names and never-indexed sensitive fields', () => {
  const encoder = new HpackEncoder({ maxTableSize: 0 });
  encoder.encode([]); // past the first block's size update
  assert.deepEqual([...encoder.encode([':method', 'POST', ':scheme', 'http'])], [0x83, 0x86]);
  // content-type (31 = 15 + 16) without indexing: 0f 10, then the value.
  assert.deepEqual([...encoder.encode(['content-type', 'a'])], [0x0f, 0x10, 0x01, 0x61]);
  // A new name: 00, name, value.
  assert.deepEqual([...encoder.encode(['te', 'trailers'])].slice(0, 4), [0x00, 0x02, 0x74, 0x65]);
  // authorization (23) never indexed: 1f 08.
  assert.deepEqual([...encoder.encode(['authorization', 'x'])], [0x1f, 0x08, 0x01, 0x78]);
  assert.deepEqual([...encoder.encode(['proxy-authorization', ''])], [0x1f, 0x22, 0x00]);
  // cookie (32 = 15 + 17): short values are never indexed, long ones without indexing.
  assert.equal(encoder.encode(['cookie', 'a=b'])[0], 0x1f);
  assert.equal(encoder.encode(['cookie', 'session=0123456789abcdef'])[0], 0x0f);
});

test('HpackEncoder encodes the RFC 7541 C.3 and C.4 requests byte for byte (incremental indexing, with and without Huffman)', () => {
  const plain = new HpackEncoder();
  assert.equal(plain.encode(REQ1).toString('hex'), '828684410f7777772e6578616d706c652e636f6d');
  assert.equal(plain.encode(REQ2).toString('hex'), '828684be58086e6f2d6361636865');
  assert.equal(plain.encode(REQ3).toString('hex'), '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565');
  assert.equal(plain.tableSize, 164);
  assert.equal(plain.tableLength, 3);
  const huffman = new HpackEncoder({ huffman: true });
  assert.equal(huffman.encode(REQ1).toString('hex'), '828684418cf1e3c2e5f23a6ba0ab90f4ff');
  assert.equal(huffman.encode(REQ2).toString('hex'), '828684be5886a8eb10649cbf');
  assert.equal(huffman.encode(REQ3).toString('hex'), '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf');
});

test('HpackEncoder keeps the RFC 7541 C.5 responses in step with the decoder through evictions from a 256-byte table', () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder(65536);
  decoder.setMaxTableSize(256);
  encoder.setMaxTableSize(256);
  const first = encoder.encode(RESP1);
  // The block starts with the size update to 256 (3f e1 01), then :status 302 indexed by name (48).
  assert.equal(first.subarray(0, 5).toString('hex'), '3fe1014803');
  assert.deepEqual(decoder.decode(first), RESP1);
  for (const list of [RESP2, RESP3, RESP1, RESP3, RESP2]) {
    const block = encoder.encode(list);
    assert.deepEqual(decoder.decode(block), list);
    assert.equal(decoder.tableSize, encoder.tableSize);
    assert.equal(decoder.tableLength, encoder.tableLength);
    assert.ok(encoder.tableSize <= 256);
  }
});

test('HpackEncoder sends a repeated field as one index and a field of a known name with an indexed name', () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder(1 << 20);
  const grpc = [':method', 'POST', ':scheme', 'http', ':path', '/pkg.Svc/Method', ':authority', 'x.ns.svc.cluster.local:8080',
    'content-type', 'application/grpc', 'te', 'trailers', 'user-agent', 'grpc-node-js/1.12.0'];
  const first = encoder.encode(grpc);
  assert.deepEqual(decoder.decode(first), grpc);
  const second = encoder.encode(grpc);
  // Two static indices, then five dynamic ones (:path was inserted first: now the oldest, 66).
  assert.equal(second.toString('hex'), '8386' + 'c2c1c0bfbe');
  assert.deepEqual(decoder.decode(second), grpc);
  // Another value of a name the dynamic table holds: its name by index (x-b: 62 + …).
  const other = encoder.encode(['te', 'other']);
  assert.equal(other[0], 0x40 | (STATIC_TABLE_LENGTH + 2)); // te is the second-newest entry
  assert.deepEqual(decoder.decode(other), ['te', 'other']);
  assert.equal(decoder.tableSize, encoder.tableSize);
});

test('HpackEncoder evicts the oldest entries as RFC 7541 §4.4 says and sends evicted fields again as literals', () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder(1 << 20);
  encoder.setMaxTableSize(200);
  decoder.setMaxTableSize(200);
  // Each entry: 5 + 50 + 32 = 87 bytes; two fit in 200, the third evicts the first.
  const field = (k: number): string[] => [`x-f${k}`.padEnd(5, '-'), String(k).repeat(50)];
  for (const k of [1, 2, 3]) assert.deepEqual(decoder.decode(encoder.encode(field(k))), field(k));
  assert.equal(encoder.tableLength, 2);
  assert.equal(encoder.tableSize, 174);
  // Field 3 is an index (the newest, 62); field 1 was evicted: a literal again, and
  // indexed, evicting field 2 (unused for two blocks).
  const three = encoder.encode(field(3));
  assert.equal(three.toString('hex'), 'be');
  const again = encoder.encode(field(1));
  assert.equal(again[0], 0x40);
  assert.ok(again.length > 50);
  assert.deepEqual(decoder.decode(three), field(3));
  assert.deepEqual(decoder.decode(again), field(1));
  assert.equal(decoder.tableSize, encoder.tableSize);
  assert.deepEqual(decoder.decode(encoder.encode([...field(1), ...field(3)])), [...field(1), ...field(3)]);
  assert.equal(encoder.tableLength, 2);
});

test('HpackEncoder sends a field larger than the table without indexing and leaves the table as it was', () => {
  const encoder = new HpackEncoder();
  encoder.encode(['x-a', 'b']);
  const big = 'q'.repeat(4096);
  const block = encoder.encode(['x-big', big]);
  assert.equal(block[0], 0x00);
  assert.equal(encoder.tableLength, 1);
  assert.deepEqual(new HpackDecoder(1 << 20).decode(block), ['x-big', big]);
  // 4096 - 32 - 5 bytes of value is exactly the table: it is inserted, evicting x-a.
  const fits = 'q'.repeat(4096 - 32 - 5);
  assert.equal(encoder.encode(['x-big', fits])[0], 0x40);
  assert.equal(encoder.tableSize, 4096);
  assert.equal(encoder.tableLength, 1);
});

test('HpackEncoder sends short varying fields without indexing and long ones with indexing', () => {
  const encoder = new HpackEncoder();
  assert.equal(encoder.encode(['etag', '"abc"'])[0], 0x0f); // etag is static 34: 0f 13
  assert.equal(encoder.encode(['grpc-timeout', '99987u'])[0], 0x00);
  assert.equal(encoder.tableLength, 0);
  const long = 'e'.repeat(65);
  assert.equal(encoder.encode(['etag', long])[0], 0x40 | 34);
  assert.deepEqual([...encoder.encode(['etag', long])], [0xbe]);
});

test('HpackEncoder keeps never-indexed and sensitive fields out of the table, however often they repeat', () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder(1 << 20);
  const list = ['password', 'secret', 'authorization', 'Bearer ' + 'x'.repeat(40), 'cookie', 'a=b',
    'proxy-authorization', 'Basic abc', 'x-ok', 'fine'];
  for (let round = 0; round < 3; round++) {
    const block = encoder.encode(list, ['password']);
    assert.deepEqual(decoder.decode(block), list);
    assert.deepEqual(decoder.neverIndexed, ['password', 'authorization', 'cookie', 'proxy-authorization']);
    // Only x-ok: fine is in the tables.
    assert.equal(encoder.tableLength, 1);
    assert.equal(decoder.tableLength, 1);
  }
  // A sensitive field whose exact pair is indexed (a long cookie was) still goes never indexed.
  const cookie = 'session=' + 'c'.repeat(30);
  encoder.encode(['cookie', cookie]);
  assert.equal(encoder.tableLength, 2);
  const forwarded = encoder.encode(['cookie', cookie], ['cookie']);
  assert.equal(forwarded[0]! & 0xf0, 0x10);
  // Its name comes from the static table (cookie = 32 = 15 + 17: 1f 11).
  assert.deepEqual([...forwarded.subarray(0, 2)], [0x1f, 0x11]);
});

test('HpackDecoder reports never-indexed fields and HpackEncoder forwards them never-indexed', () => {
  const decoder = new HpackDecoder(1000);
  // C.2.3's password: secret (never indexed), then x-a: b without indexing.
  assert.deepEqual(decoder.decode(hex('100870617373776f726406736563726574 0003782d610162')), ['password', 'secret', 'x-a', 'b']);
  assert.deepEqual(decoder.neverIndexed, ['password']);
  const encoder = new HpackEncoder();
  const block = encoder.encode(['password', 'secret', 'x-a', 'b'], decoder.neverIndexed);
  // password stays never indexed; x-a: b goes into the table (40 …).
  assert.equal(block.toString('hex'), '100870617373776f726406736563726574' + '4003782d610162');
  assert.deepEqual(decoder.decode(block), ['password', 'secret', 'x-a', 'b']);
  assert.deepEqual(decoder.decode(hex('82')), [':method', 'GET']);
  assert.deepEqual(decoder.neverIndexed, []);
});

test('HpackEncoder announces table size changes before the next block: the smallest first, then the final one', () => {
  const cases: readonly (readonly [string, readonly number[], string])[] = [
    ['a shrink', [1000], '3fc907'],
    ['a shrink to 0 and back', [0, 4096], '20' + '3fe11f'],
    ['a shrink, then a smaller one', [2000, 100], '3f45'],
    ['a shrink, then a larger one still below the default', [100, 2000], '3f45' + '3fb10f'],
    ['the same size again', [4096], ''],
    ['a size above the cap of 4096: the cap', [65536], '3fe11f'],
    ['a shrink and a return to the same size', [0, 4096, 4096], '20' + '3fe11f'],
  ];
  for (const [what, sizes, prefix] of cases) {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder(1 << 20);
    assert.deepEqual(decoder.decode(encoder.encode(['x-a', 'b'])), ['x-a', 'b']);
    for (const size of sizes) {
      decoder.setMaxTableSize(size);
      encoder.setMaxTableSize(size);
    }
    const block = encoder.encode([':method', 'GET']);
    assert.equal(block.toString('hex'), prefix + '82', what);
    assert.deepEqual(decoder.decode(block), [':method', 'GET'], what);
    assert.equal(decoder.tableSize, encoder.tableSize, what);
    // Only the next block carries the updates.
    assert.equal(encoder.encode([':method', 'GET']).toString('hex'), '82', what);
  }
});

test('HpackEncoder shrunk to 0 keeps nothing, and grown again indexes again', () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder(1 << 20);
  decoder.decode(encoder.encode(['x-a', 'b', 'x-c', 'd']));
  encoder.setMaxTableSize(0);
  decoder.setMaxTableSize(0);
  assert.equal(encoder.tableLength, 0);
  assert.deepEqual(decoder.decode(encoder.encode(['x-a', 'b'])), ['x-a', 'b']);
  assert.equal(decoder.tableLength, 0);
  assert.equal(encoder.encode(['x-a', 'b'])[0], 0x00);
  encoder.setMaxTableSize(4096);
  decoder.setMaxTableSize(4096);
  assert.deepEqual(decoder.decode(encoder.encode(['x-a', 'b'])), ['x-a', 'b']);
  assert.deepEqual([...encoder.encode(['x-a', 'b'])], [0xbe]);
  assert.equal(decoder.tableLength, 1);
});

test('HpackEncoder answers a client that references a large table entry with an index, not the whole value (the ~150× amplification)', () => {
  // As the review's probe: four fields of ~1 KB, indexed once, then referenced by every request.
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder(1 << 20);
  const list = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'app.test'];
  for (let k = 0; k < 4; k++) list.push(`x-a${k}`, String.fromCharCode(0x41 + k).repeat(980));
  let repeated = 0;
  for (let i = 0; i < 1000; i++) {
    const block = encoder.encode(list);
    assert.deepEqual(decoder.decode(block), list);
    if (i > 0) repeated += block.length;
  }
  // Three static indices, :authority as a literal (10 bytes: it would evict one of
  // the large fields the previous block used) and four dynamic indices per request,
  // not 4 KB of literals: a FIFO table this full would otherwise miss every field.
  assert.equal(repeated, 999 * 17);
  assert.equal(encoder.tableLength, 4);
});

/** A small deterministic generator, so a failing case can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('HpackEncoder with Huffman writes shorter strings that decode back', () => {
  const plain = new HpackEncoder().encode([':authority', 'www.example.com']);
  const huffman = new HpackEncoder({ huffman: true }).encode([':authority', 'www.example.com']);
  assert.ok(huffman.length < plain.length);
  assert.deepEqual(new HpackDecoder(1000).decode(huffman), [':authority', 'www.example.com']);
});

test('HpackEncoder output decodes to the same list for many random header lists (latin1 0x20-0xff)', () => {
  const random = lcg(7541);
  const staticNames = [...STATIC_NAME_INDEX.keys()];
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const text = (min: number, max: number, lo: number, hi: number): string => {
    const length = min + Math.floor(random() * (max - min + 1));
    let s = '';
    for (let i = 0; i < length; i++) s += String.fromCharCode(lo + Math.floor(random() * (hi - lo + 1)));
    return s;
  };
  for (const huffman of [false, true]) {
    const encoder = new HpackEncoder({ huffman });
    const decoder = new HpackDecoder(1 << 20);
    for (let round = 0; round < 500; round++) {
      const headers: string[] = [];
      const fields = Math.floor(random() * 12);
      for (let f = 0; f < fields; f++) {
        const kind = random();
        if (kind < 0.2) {
          const i = 1 + Math.floor(random() * STATIC_TABLE_LENGTH);
          headers.push(STATIC_TABLE[2 * i - 2]!, STATIC_TABLE[2 * i - 1]!);
        } else if (kind < 0.6) {
          headers.push(pick(staticNames), text(0, 40, 0x20, 0xff));
        } else {
          headers.push(text(1, 20, 0x61, 0x7a), text(0, random() < 0.05 ? 300 : 40, 0x20, 0xff));
        }
      }
      assert.deepEqual(decoder.decode(encoder.encode(headers)), headers, `huffman=${huffman} round ${round}`);
      assert.equal(decoder.tableSize, encoder.tableSize, `huffman=${huffman} round ${round}`);
    }
  }
});

test('HpackEncoder and HpackDecoder stay in step over many blocks of repeated fields, size changes and evictions', () => {
  const random = lcg(4096);
  // A small pool, so fields repeat (exact and name matches) and the table churns.
  const pool: string[][] = [];
  for (let k = 0; k < 60; k++) {
    const staticNames = [...STATIC_NAME_INDEX.keys()];
    const name = random() < 0.3 ? staticNames[k % staticNames.length]! : `x-h${k % 23}`;
    const length = random() < 0.1 ? 200 + Math.floor(random() * 2000) : Math.floor(random() * 90);
    pool.push([name, String.fromCharCode(0x61 + (k % 26)).repeat(length)]);
  }
  const sizes = [4096, 4096, 4096, 0, 100, 256, 1000, 2048, 65536, 8192];
  for (const huffman of [false, true]) {
    const encoder = new HpackEncoder({ huffman });
    const decoder = new HpackDecoder(1 << 20);
    let hits = 0;
    for (let round = 0; round < 2000; round++) {
      // Sometimes one SETTINGS or two between blocks (a peer may send several).
      if (random() < 0.03) {
        const changes = random() < 0.5 ? 1 : 2;
        for (let c = 0; c < changes; c++) {
          const size = sizes[Math.floor(random() * sizes.length)]!;
          decoder.setMaxTableSize(size);
          encoder.setMaxTableSize(size);
        }
      }
      const headers: string[] = [];
      const fields = 1 + Math.floor(random() * 10);
      for (let f = 0; f < fields; f++) headers.push(...pool[Math.floor(random() * pool.length)]!);
      const block = encoder.encode(headers, random() < 0.1 ? [headers[0]!] : []);
      for (const byte of block) if (byte > STATIC_TABLE_LENGTH + 0x80) hits++;
      assert.deepEqual(decoder.decode(block), headers, `huffman=${huffman} round ${round}`);
      assert.equal(decoder.tableSize, encoder.tableSize, `huffman=${huffman} round ${round}`);
      assert.equal(decoder.tableLength, encoder.tableLength, `huffman=${huffman} round ${round}`);
      assert.ok(encoder.tableSize <= 4096);
    }
    assert.ok(hits > 1000, `dynamic indices used (${hits})`);
  }
});

test('the Huffman code table is canonical and complete (catches a mistyped entry)', () => {
  assert.equal(HUFFMAN_CODES.length, 2 * 257);
  const symbols = Array.from({ length: 257 }, (_, s) => s).sort(
    (a, b) => HUFFMAN_CODES[2 * a + 1]! - HUFFMAN_CODES[2 * b + 1]! || a - b,
  );
  let code = 0;
  let previousLength = HUFFMAN_CODES[2 * symbols[0]! + 1]!;
  let kraft = 0;
  for (const [k, s] of symbols.entries()) {
    const length = HUFFMAN_CODES[2 * s + 1]!;
    if (k > 0) code = (code + 1) * 2 ** (length - previousLength);
    previousLength = length;
    assert.equal(HUFFMAN_CODES[2 * s]!, code, `symbol ${s}`);
    kraft += 2 ** -length;
  }
  assert.equal(kraft, 1);
  // Spot checks against RFC 7541 Appendix B.
  assert.deepEqual([HUFFMAN_CODES[0], HUFFMAN_CODES[1]], [0x1ff8, 13]);
  assert.deepEqual([HUFFMAN_CODES[2 * 0x30], HUFFMAN_CODES[2 * 0x30 + 1]], [0x0, 5]);
  assert.deepEqual([HUFFMAN_CODES[2 * HUFFMAN_EOS], HUFFMAN_CODES[2 * HUFFMAN_EOS + 1]], [0x3fffffff, 30]);
});

test('huffmanDecode round-trips every byte value, alone and in one string', () => {
  const check = (s: string): void => {
    const encoded = Buffer.alloc(huffmanEncodedLength(s));
    assert.equal(huffmanEncode(s, encoded, 0), encoded.length);
    const out = Buffer.alloc(huffmanMaxDecodedLength(encoded.length));
    const n = huffmanDecode(encoded, 0, encoded.length, out);
    assert.equal(out.toString('latin1', 0, n), s);
  };
  for (let b = 0; b < 256; b++) check(String.fromCharCode(b));
  check(Array.from({ length: 256 }, (_, b) => String.fromCharCode(b)).join(''));
  check(Array.from({ length: 256 }, (_, b) => String.fromCharCode(255 - b)).join(''));
  check('');
});

test('the static table has the 61 RFC 7541 Appendix A entries and lookups pick the lowest index', () => {
  assert.equal(STATIC_TABLE_LENGTH, 61);
  assert.equal(STATIC_NAME_INDEX.get(':authority'), 1);
  assert.equal(STATIC_NAME_INDEX.get(':method'), 2);
  assert.equal(STATIC_NAME_INDEX.get(':status'), 8);
  assert.equal(STATIC_NAME_INDEX.get('www-authenticate'), 61);
  assert.equal(STATIC_FIELD_INDEX.get(':status')?.get('404'), 13);
  assert.equal(STATIC_FIELD_INDEX.get('accept-encoding')?.get('gzip, deflate'), 16);
  assert.equal(STATIC_FIELD_INDEX.get('user-agent')?.get(''), 58);
  assert.equal([...STATIC_FIELD_INDEX.values()].reduce((n, m) => n + m.size, 0), 61);
});

test('HpackDecoder fails only with its own errors on random and mutated blocks (fuzz)', () => {
  const random = lcg(9113);
  const seeds = [
    hex('828684418cf1e3c2e5f23a6ba0ab90f4ff'),
    hex('488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3'),
    new HpackEncoder({ huffman: true }).encode(['x-a', 'caf\u00e9', 'cookie', 'a=b', ':path', '/x']),
  ];
  let decoded = 0;
  // One long-lived decoder too, carrying whatever table the noise left between blocks.
  const shared = new HpackDecoder(2000, 256);
  for (let round = 0; round < 20_000; round++) {
    let block: Buffer;
    if (round % 2 === 0) {
      block = Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
    } else {
      block = Buffer.from(seeds[round % seeds.length]!);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
        block[Math.floor(random() * block.length)] = Math.floor(random() * 256);
      }
      if (random() < 0.3) block = block.subarray(0, Math.floor(random() * block.length));
    }
    const decoder = round % 3 === 0 ? shared : new HpackDecoder(2000, 256);
    try {
      const list = decoder.decode(block);
      assert.equal(list.length % 2, 0);
      decoded++;
    } catch (err) {
      if (!(err instanceof HpackError) && !(err instanceof HeaderListTooLargeError)) {
        assert.fail(`block ${block.toString('hex')} threw ${String(err)}`);
      }
    }
  }
  assert.ok(decoded > 0);
});
