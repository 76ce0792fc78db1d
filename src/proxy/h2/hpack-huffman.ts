/**
 * The HPACK Huffman code (RFC 7541 Appendix B) and a decoder for it that walks a
 * 4-bit state table: two table lookups per input byte, no allocation per byte.
 *
 * Why a nibble table rather than a bit-by-bit trie: every common client
 * Huffman-codes `:path`, `:authority` and `user-agent`, so this runs for several
 * strings of every request on every hop; 4 bits per step halves the steps of a
 * byte-at-a-time walk over a bit trie and keeps the table small (256 states ×
 * 16 entries × 4 bytes = 16 KiB, built once at load).
 */

/**
 * RFC 7541 Appendix B: for each symbol 0–256 (256 is EOS), its code
 * (right-aligned) then its length in bits. The code is canonical (codes of one
 * length are consecutive, in symbol order), which the unit tests check: a typo in
 * one entry breaks that property.
 */
export const HUFFMAN_CODES: readonly number[] = [
  0x1ff8, 13, 0x7fffd8, 23, 0xfffffe2, 28, 0xfffffe3, 28, // 0–3
  0xfffffe4, 28, 0xfffffe5, 28, 0xfffffe6, 28, 0xfffffe7, 28, // 4–7
  0xfffffe8, 28, 0xffffea, 24, 0x3ffffffc, 30, 0xfffffe9, 28, // 8–11
  0xfffffea, 28, 0x3ffffffd, 30, 0xfffffeb, 28, 0xfffffec, 28, // 12–15
  0xfffffed, 28, 0xfffffee, 28, 0xfffffef, 28, 0xffffff0, 28, // 16–19
  0xffffff1, 28, 0xffffff2, 28, 0x3ffffffe, 30, 0xffffff3, 28, // 20–23
  0xffffff4, 28, 0xffffff5, 28, 0xffffff6, 28, 0xffffff7, 28, // 24–27
  0xffffff8, 28, 0xffffff9, 28, 0xffffffa, 28, 0xffffffb, 28, // 28–31
  0x14, 6, 0x3f8, 10, 0x3f9, 10, 0xffa, 12, // 32–35
  0x1ff9, 13, 0x15, 6, 0xf8, 8, 0x7fa, 11, // 36–39
  0x3fa, 10, 0x3fb, 10, 0xf9, 8, 0x7fb, 11, // 40–43
  0xfa, 8, 0x16, 6, 0x17, 6, 0x18, 6, // 44–47
  0x0, 5, 0x1, 5, 0x2, 5, 0x19, 6, // 48–51
  0x1a, 6, 0x1b, 6, 0x1c, 6, 0x1d, 6, // 52–55
  0x1e, 6, 0x1f, 6, 0x5c, 7, 0xfb, 8, // 56–59
  0x7ffc, 15, 0x20, 6, 0xffb, 12, 0x3fc, 10, // 60–63
  0x1ffa, 13, 0x21, 6, 0x5d, 7, 0x5e, 7, // 64–67
  0x5f, 7, 0x60, 7, 0x61, 7, 0x62, 7, // 68–71
  0x63, 7, 0x64, 7, 0x65, 7, 0x66, 7, // 72–75
  0x67, 7, 0x68, 7, 0x69, 7, 0x6a, 7, // 76–79
  0x6b, 7, 0x6c, 7, 0x6d, 7, 0x6e, 7, // 80–83
  0x6f, 7, 0x70, 7, 0x71, 7, 0x72, 7, // 84–87
  0xfc, 8, 0x73, 7, 0xfd, 8, 0x1ffb, 13, // 88–91
  0x7fff0, 19, 0x1ffc, 13, 0x3ffc, 14, 0x22, 6, // 92–95
  0x7ffd, 15, 0x3, 5, 0x23, 6, 0x4, 5, // 96–99
  0x24, 6, 0x5, 5, 0x25, 6, 0x26, 6, // 100–103
  0x27, 6, 0x6, 5, 0x74, 7, 0x75, 7, // 104–107
  0x28, 6, 0x29, 6, 0x2a, 6, 0x7, 5, // 108–111
  0x2b, 6, 0x76, 7, 0x2c, 6, 0x8, 5, // 112–115
  0x9, 5, 0x2d, 6, 0x77, 7, 0x78, 7, // 116–119
  0x79, 7, 0x7a, 7, 0x7b, 7, 0x7ffe, 15, // 120–123
  0x7fc, 11, 0x3ffd, 14, 0x1ffd, 13, 0xffffffc, 28, // 124–127
  0xfffe6, 20, 0x3fffd2, 22, 0xfffe7, 20, 0xfffe8, 20, // 128–131
  0x3fffd3, 22, 0x3fffd4, 22, 0x3fffd5, 22, 0x7fffd9, 23, // 132–135
  0x3fffd6, 22, 0x7fffda, 23, 0x7fffdb, 23, 0x7fffdc, 23, // 136–139
  0x7fffdd, 23, 0x7fffde, 23, 0xffffeb, 24, 0x7fffdf, 23, // 140–143
  0xffffec, 24, 0xffffed, 24, 0x3fffd7, 22, 0x7fffe0, 23, // 144–147
  0xffffee, 24, 0x7fffe1, 23, 0x7fffe2, 23, 0x7fffe3, 23, // 148–151
  0x7fffe4, 23, 0x1fffdc, 21, 0x3fffd8, 22, 0x7fffe5, 23, // 152–155
  0x3fffd9, 22, 0x7fffe6, 23, 0x7fffe7, 23, 0xffffef, 24, // 156–159
  0x3fffda, 22, 0x1fffdd, 21, 0xfffe9, 20, 0x3fffdb, 22, // 160–163
  0x3fffdc, 22, 0x7fffe8, 23, 0x7fffe9, 23, 0x1fffde, 21, // 164–167
  0x7fffea, 23, 0x3fffdd, 22, 0x3fffde, 22, 0xfffff0, 24, // 168–171
  0x1fffdf, 21, 0x3fffdf, 22, 0x7fffeb, 23, 0x7fffec, 23, // 172–175
  0x1fffe0, 21, 0x1fffe1, 21, 0x3fffe0, 22, 0x1fffe2, 21, // 176–179
  0x7fffed, 23, 0x3fffe1, 22, 0x7fffee, 23, 0x7fffef, 23, // 180–183
  0xfffea, 20, 0x3fffe2, 22, 0x3fffe3, 22, 0x3fffe4, 22, // 184–187
  0x7ffff0, 23, 0x3fffe5, 22, 0x3fffe6, 22, 0x7ffff1, 23, // 188–191
  0x3ffffe0, 26, 0x3ffffe1, 26, 0xfffeb, 20, 0x7fff1, 19, // 192–195
  0x3fffe7, 22, 0x7ffff2, 23, 0x3fffe8, 22, 0x1ffffec, 25, // 196–199
  0x3ffffe2, 26, 0x3ffffe3, 26, 0x3ffffe4, 26, 0x7ffffde, 27, // 200–203
  0x7ffffdf, 27, 0x3ffffe5, 26, 0xfffff1, 24, 0x1ffffed, 25, // 204–207
  0x7fff2, 19, 0x1fffe3, 21, 0x3ffffe6, 26, 0x7ffffe0, 27, // 208–211
  0x7ffffe1, 27, 0x3ffffe7, 26, 0x7ffffe2, 27, 0xfffff2, 24, // 212–215
  0x1fffe4, 21, 0x1fffe5, 21, 0x3ffffe8, 26, 0x3ffffe9, 26, // 216–219
  0xffffffd, 28, 0x7ffffe3, 27, 0x7ffffe4, 27, 0x7ffffe5, 27, // 220–223
  0xfffec, 20, 0xfffff3, 24, 0xfffed, 20, 0x1fffe6, 21, // 224–227
  0x3fffe9, 22, 0x1fffe7, 21, 0x1fffe8, 21, 0x7ffff3, 23, // 228–231
  0x3fffea, 22, 0x3fffeb, 22, 0x1ffffee, 25, 0x1ffffef, 25, // 232–235
  0xfffff4, 24, 0xfffff5, 24, 0x3ffffea, 26, 0x7ffff4, 23, // 236–239
  0x3ffffeb, 26, 0x7ffffe6, 27, 0x3ffffec, 26, 0x3ffffed, 26, // 240–243
  0x7ffffe7, 27, 0x7ffffe8, 27, 0x7ffffe9, 27, 0x7ffffea, 27, // 244–247
  0x7ffffeb, 27, 0xffffffe, 28, 0x7ffffec, 27, 0x7ffffed, 27, // 248–251
  0x7ffffee, 27, 0x7ffffef, 27, 0x7fffff0, 27, 0x3ffffee, 26, // 252–255
  0x3fffffff, 30, // 256
];

/** The EOS symbol: a string containing it is a decoding error (RFC 7541 §5.2). */
export const HUFFMAN_EOS = 256;

// Entry layout of the decode table (one Uint32 per state × nibble):
//   bits 0–7   next state (index of an internal trie node; 0 is the root)
//   bits 8–15  the symbol emitted on this nibble, if FLAG_EMIT
//   bit 16     FLAG_EMIT: a symbol ended within this nibble
//   bit 17     FLAG_ACCEPT: ending the string in the next state is valid padding
//              (the root, or a run of at most 7 one-bits from it: EOS's prefix)
//   bit 18     FLAG_FAIL: the nibble completes EOS
const FLAG_EMIT = 1 << 16;
const FLAG_ACCEPT = 1 << 17;
const FLAG_FAIL = 1 << 18;

/** The decode table, built once from HUFFMAN_CODES (see the layout above). */
const DECODE = buildDecodeTable();

function buildDecodeTable(): Uint32Array {
  // A binary trie over the codes: internal nodes are numbered from 0 (root);
  // children hold `node index` for internal nodes and `-1 - symbol` for leaves.
  const left: number[] = [0];
  const right: number[] = [0];
  let nodes = 1;
  for (let sym = 0; sym <= HUFFMAN_EOS; sym++) {
    const code = HUFFMAN_CODES[sym * 2]!;
    const len = HUFFMAN_CODES[sym * 2 + 1]!;
    let node = 0;
    for (let bit = len - 1; bit >= 0; bit--) {
      const one = Math.floor(code / 2 ** bit) % 2 === 1;
      const children = one ? right : left;
      if (bit === 0) {
        children[node] = -1 - sym;
      } else {
        if (children[node] === 0 || children[node] === undefined) {
          children[node] = nodes;
          left[nodes] = 0;
          right[nodes] = 0;
          nodes++;
        }
        node = children[node]!;
      }
    }
  }
  // A node accepts the end of the string when it is reached from the root by at
  // most 7 one-bits (RFC 7541 §5.2: padding is the EOS prefix, shorter than 8 bits).
  const accepting = new Uint8Array(nodes);
  accepting[0] = 1;
  for (let node = 0, depth = 0; depth < 7; depth++) {
    node = right[node]!;
    accepting[node] = 1;
  }
  const table = new Uint32Array(nodes * 16);
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const child = ((nibble >> bit) & 1) === 1 ? right[node]! : left[node]!;
        if (child < 0) {
          const sym = -1 - child;
          if (sym === HUFFMAN_EOS) {
            entry = FLAG_FAIL;
            break;
          }
          // Codes are at least 5 bits long, so one nibble ends at most one symbol.
          entry |= FLAG_EMIT | (sym << 8);
          node = 0;
        } else {
          node = child;
        }
      }
      if ((entry & FLAG_FAIL) === 0) {
        entry |= node | (accepting[node] === 1 ? FLAG_ACCEPT : 0);
      }
      table[state * 16 + nibble] = entry;
    }
  }
  return table;
}

/**
 * Decodes the Huffman-coded bytes `src[start, end)` into `dst` from offset 0 and
 * returns the number of bytes written, or -1 when the input is invalid (EOS
 * inside, padding longer than 7 bits or not all ones). `dst` must hold at least
 * `huffmanMaxDecodedLength(end - start)` bytes.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  const table = DECODE;
  let state = 0;
  let accept = true;
  let out = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    let entry = table[(state << 4) | (byte >> 4)]!;
    if ((entry & FLAG_FAIL) !== 0) return -1;
    if ((entry & FLAG_EMIT) !== 0) dst[out++] = (entry >> 8) & 0xff;
    state = entry & 0xff;
    entry = table[(state << 4) | (byte & 0x0f)]!;
    if ((entry & FLAG_FAIL) !== 0) return -1;
    if ((entry & FLAG_EMIT) !== 0) dst[out++] = (entry >> 8) & 0xff;
    state = entry & 0xff;
    accept = (entry & FLAG_ACCEPT) !== 0;
  }
  return accept ? out : -1;
}

/** The most bytes `encodedLength` Huffman-coded bytes can decode to (shortest code: 5 bits). */
export function huffmanMaxDecodedLength(encodedLength: number): number {
  return Math.ceil((encodedLength * 8) / 5);
}

/** The length in bytes of the Huffman coding of the latin1 string `s`. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_CODES[(s.charCodeAt(i) & 0xff) * 2 + 1]!;
  return Math.ceil(bits / 8);
}

/**
 * Writes the Huffman coding of the latin1 string `s` into `dst` at `offset`
 * (padded with the EOS prefix, RFC 7541 §5.2) and returns the offset after it.
 * The caller sized `dst` with huffmanEncodedLength.
 */
export function huffmanEncode(s: string, dst: Uint8Array, offset: number): number {
  // Pending bits stay below 8, and a code is pushed at most 24 bits at a time
  // (longer ones in two parts), so the accumulator fits in 31 bits: int32 ops only.
  let acc = 0;
  let bits = 0;
  let o = offset;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    let code = HUFFMAN_CODES[sym * 2]!;
    let len = HUFFMAN_CODES[sym * 2 + 1]!;
    if (len > 24) {
      acc = (acc << (len - 16)) | (code >>> 16);
      bits += len - 16;
      while (bits >= 8) {
        bits -= 8;
        dst[o++] = acc >>> bits;
      }
      acc &= (1 << bits) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      dst[o++] = acc >>> bits;
    }
    acc &= (1 << bits) - 1;
  }
  // Pad with the most significant bits of EOS (all ones).
  if (bits > 0) dst[o++] = (acc << (8 - bits)) | (0xff >>> bits);
  return o;
}
