import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeCertifyRequest, decodeCertifyResponse, encodeCertifyRequest, encodeCertifyResponse, WireError,
} from './wire.ts';

test('encodeCertifyRequest() writes fields 1, 2 and 3 as length-delimited bytes', () => {
  const bytes = encodeCertifyRequest({
    identity: 'a', token: Buffer.from('t'), certificateSigningRequest: Uint8Array.from([1, 2]),
  });
  assert.equal(Buffer.from(bytes).toString('hex'), '0a0161120174' + '1a020102');
});

test('decodeCertifyRequest() skips unknown fields and reads absent ones as empty', () => {
  // field 9 varint 150 (unknown), then field 1 "xy"
  const msg = decodeCertifyRequest(Buffer.from('4896010a027879', 'hex'));
  assert.equal(msg.identity, 'xy');
  assert.equal(msg.token.length, 0);
  assert.equal(msg.certificateSigningRequest.length, 0);
});

test('decodeCertifyRequest() refuses a field cut short', () => {
  assert.throws(() => decodeCertifyRequest(Buffer.from('0a05ab', 'hex')), WireError);
});

test('a CertifyResponse survives a round trip with two intermediates and millisecond time', () => {
  const validUntil = new Date('2030-01-02T03:04:05.678Z');
  const back = decodeCertifyResponse(encodeCertifyResponse({
    leafCertificate: Uint8Array.from([1]),
    intermediateCertificates: [Uint8Array.from([2]), Uint8Array.from([3, 4])],
    validUntil,
  }));
  assert.deepEqual([...back.leafCertificate], [1]);
  assert.deepEqual(back.intermediateCertificates.map((b) => [...b]), [[2], [3, 4]]);
  assert.equal(back.validUntil.toISOString(), validUntil.toISOString());
});

test('valid_until is a google.protobuf.Timestamp with seconds in field 1', () => {
  const bytes = encodeCertifyResponse({
    leafCertificate: new Uint8Array(0), intermediateCertificates: [], validUntil: new Date(1000),
  });
  // field 3, length 2, {field 1 varint 1}
  assert.equal(Buffer.from(bytes).toString('hex'), '1a020801');
});
