import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameMessage, MessageReader } from './message-frames.ts';

test('frameMessage() prefixes a message with a zero flag and its big-endian length', () => {
  assert.equal(frameMessage(Buffer.from('hi')).toString('hex'), '00000000026869');
  assert.equal(frameMessage(new Uint8Array(0)).toString('hex'), '0000000000');
});

test('MessageReader reads messages however the stream cuts them', () => {
  const messages = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('last')];
  const wire = Buffer.concat(messages.map((m) => frameMessage(m)));
  for (const size of [1, 2, 5, 6, 1000, wire.length]) {
    const reader = new MessageReader(1 << 20);
    const got: Buffer[] = [];
    for (let at = 0; at < wire.length; at += size) {
      const out = reader.push(wire.subarray(at, at + size));
      assert.ok(Array.isArray(out));
      got.push(...out);
    }
    assert.deepEqual(got, messages, `chunks of ${size}`);
    assert.equal(reader.buffered, 0);
  }
});

test('MessageReader counts a message cut short as still buffered', () => {
  const reader = new MessageReader(100);
  assert.deepEqual(reader.push(frameMessage(Buffer.from('hello')).subarray(0, 7)), []);
  assert.equal(reader.buffered, 7);
});

test('MessageReader refuses a compressed message and one over the limit', () => {
  assert.deepEqual(new MessageReader(100).push(Buffer.from([1, 0, 0, 0, 1, 9])), { kind: 'compressed' });
  assert.deepEqual(new MessageReader(100).push(frameMessage(Buffer.alloc(101))), { kind: 'too-large', length: 101, max: 100 });
});
