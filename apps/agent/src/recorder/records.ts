/**
 * Spool records are the protobuf encoding of `RecordingBatch.events` entries:
 * `0x1A <varint length> <RecordingEvent>`. A run of records read from a segment is therefore
 * already the body of a RecordingBatch, and the shipper sends it without decoding or re-encoding.
 * The event's seq is its first field (`0x08 <varint>`): ts-proto writes fields in number order and
 * seq is never 0, so it is read without decoding the event.
 */

/** RecordingBatch field 3 (events), wire type 2. */
export const EVENT_TAG = 0x1a;

export function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** Writes an unsigned varint (up to 2^53) at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

/** Undefined when the buffer ends inside the varint. */
export function readVarint(buf: Uint8Array, pos: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= end) return undefined;
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: pos };
    scale *= 128;
  }
  throw new SpoolCorruption('varint too long');
}

export class SpoolCorruption extends Error {}

export interface RecordView {
  seq: number;
  /** Offset of the event bytes (after tag and length). */
  body: number;
  /** Offset just past the record. */
  end: number;
}

/**
 * The record starting at `pos`, `{ incomplete: needed }` when the buffer stops inside it (needed
 * = its full length in bytes), or throws SpoolCorruption.
 */
export function readRecord(buf: Uint8Array, pos: number, end: number): RecordView | { incomplete: number } {
  if (pos >= end) return { incomplete: 1 };
  if (buf[pos] !== EVENT_TAG) throw new SpoolCorruption(`unexpected byte 0x${buf[pos]!.toString(16)} where a record starts`);
  const length = readVarint(buf, pos + 1, end);
  if (!length) return { incomplete: 11 };
  const recordEnd = length.next + length.value;
  if (recordEnd > end) return { incomplete: recordEnd - pos };
  if (buf[length.next] !== 0x08) throw new SpoolCorruption('record does not start with its seq');
  const seq = readVarint(buf, length.next + 1, recordEnd);
  if (!seq || seq.value === 0) throw new SpoolCorruption('record has no seq');
  return { seq: seq.value, body: length.next, end: recordEnd };
}
