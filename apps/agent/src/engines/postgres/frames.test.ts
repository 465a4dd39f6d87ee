import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameError, FrameReader } from './frames.js';
import { FRONTEND_CODES } from './protocol.js';

/** Deliberately simple, independent builder: type byte, big-endian length, body. */
function frame(type: string, body: string | Buffer): Buffer {
  const payload = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(payload.length + 4, 1);
  return Buffer.concat([header, payload]);
}

const messages = [
  frame('Q', 'select 1\0'),
  frame('P', '\0select $1\0\0\0'),
  frame('B', Buffer.alloc(0)),
  frame('S', ''),
  frame('d', Buffer.alloc(3000, 7)),
  frame('X', ''),
];
const stream = Buffer.concat(messages);

/** Feeds chunks; returns the frames seen and the bytes of the regions handed on. */
function run(reader: FrameReader, chunks: Buffer[]) {
  const frames: Buffer[] = [];
  const forwarded: Buffer[] = [];
  for (const chunk of chunks) {
    const region = reader.feed(chunk, (_code, buffer, start, end) =>
      frames.push(Buffer.from(buffer.subarray(start, end))),
    );
    forwarded.push(region.buffer.subarray(region.start, region.end));
  }
  return { frames, forwarded: Buffer.concat(forwarded) };
}

describe('FrameReader', () => {
  it('finds the same frames and forwards the same bytes whatever the split point', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const { frames, forwarded } = run(new FrameReader(1 << 20, FRONTEND_CODES), [
        stream.subarray(0, cut),
        stream.subarray(cut),
      ]);
      assert.deepEqual(frames, messages, `split at ${cut}`);
      assert.ok(forwarded.equals(stream), `split at ${cut}`);
    }
  });

  it('handles every pair of split points within the first messages (three chunks)', () => {
    const head = Buffer.concat(messages.slice(0, 3));
    for (let a = 0; a <= head.length; a++) {
      for (let b = a; b <= head.length; b++) {
        const { frames } = run(new FrameReader(1 << 20), [head.subarray(0, a), head.subarray(a, b), head.subarray(b)]);
        assert.deepEqual(frames, messages.slice(0, 3), `split at ${a}, ${b}`);
      }
    }
  });

  it('byte by byte', () => {
    const chunks = [...stream].map((byte) => Buffer.from([byte]));
    assert.deepEqual(run(new FrameReader(1 << 20), chunks).frames, messages);
  });

  it('hands on a chunk of whole frames as the same Buffer, without copying', () => {
    const region = new FrameReader(1 << 20).feed(stream, () => undefined);
    assert.equal(region.buffer, stream);
    assert.equal(region.end, stream.length);
  });

  it('joins a large frame arriving in many chunks once, at its end', () => {
    const big = frame('d', Buffer.alloc(4 * 1024 * 1024, 1));
    const reader = new FrameReader(8 * 1024 * 1024);
    const seen: number[] = [];
    for (let offset = 0; offset < big.length; offset += 65536) {
      const region = reader.feed(big.subarray(offset, offset + 65536), (_c, _b, start, end) => seen.push(end - start));
      if (offset + 65536 < big.length) assert.equal(region.end, 0);
    }
    assert.deepEqual(seen, [big.length]);
    assert.equal(reader.buffered, 0);
  });

  it('refuses oversized, undersized and unknown frames', () => {
    assert.throws(() => new FrameReader(100).feed(frame('d', Buffer.alloc(200)), () => undefined), FrameError);
    const tooShort = Buffer.from([0x51, 0, 0, 0, 3]);
    assert.throws(() => new FrameReader(100).feed(tooShort, () => undefined), /invalid message length 3/);
    assert.throws(
      () => new FrameReader(100, FRONTEND_CODES).feed(frame('!', ''), () => undefined),
      /unknown message type 0x21/,
    );
    // Detected as soon as the header is complete, even split across chunks.
    const reader = new FrameReader(100);
    reader.feed(Buffer.from([0x64, 0x7f]), () => undefined);
    assert.throws(() => reader.feed(Buffer.from([0xff, 0xff, 0xff]), () => undefined), /exceeds the limit/);
  });
});
