import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitString, contextConstructed, contextPrimitive, integer, octetString, oid, sequence, set, tlv, utf8String } from './der-writer.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('der-writer encodes object identifiers as X.509 spells them', () => {
  const cases: Array<[string, string]> = [
    ['2.5.4.3', '0603550403'],
    ['2.5.29.17', '0603551d11'],
    ['1.2.840.10045.4.3.2', '06082a8648ce3d040302'],
    ['1.2.840.113549.1.9.14', '06092a864886f70d01090e'],
  ];
  for (const [dotted, want] of cases) assert.equal(hex(oid(dotted)), want, dotted);
});

test('der-writer uses the short length form below 128 bytes and the long form from 128 on', () => {
  const cases: Array<[number, string]> = [[0, '0400'], [127, '047f'], [128, '048180'], [255, '0481ff'], [256, '04820100'], [65_536, '0483010000']];
  for (const [n, prefix] of cases) {
    const out = octetString(new Uint8Array(n));
    assert.equal(hex(out.subarray(0, prefix.length / 2)), prefix, `${n} bytes`);
    assert.equal(out.length, prefix.length / 2 + n);
  }
});

test('der-writer builds sequences, sets, strings, bit strings and context tags', () => {
  assert.equal(hex(sequence(integer(0), utf8String('a'))), '3006020100' + '0c0161');
  assert.equal(hex(set(integer(2))), '3103020102');
  assert.equal(hex(bitString(Buffer.from([0xab]))), '030200ab');
  assert.equal(hex(contextConstructed(0, integer(1))), 'a003020101');
  assert.equal(hex(contextPrimitive(2, Buffer.from('x'))), '820178');
  assert.equal(hex(tlv(0x05, new Uint8Array(0))), '0500');
  assert.throws(() => integer(128), RangeError);
  assert.throws(() => oid('1'), RangeError);
  assert.throws(() => contextPrimitive(31, new Uint8Array(0)), RangeError);
});
