/**
 * Framing of typed protocol messages in the style of pg-protocol: cursors over the chunk as it
 * came, never a copy of bytes that are already whole. A chunk holding only complete frames is
 * handed on as the very same Buffer; only a frame split across chunks is joined (once, when its
 * last byte arrives, so a 64 MiB field is not copied a thousand times).
 */

export interface FrameRegion {
  /** Bytes of complete frames, [start, end) of buffer; forward them as is. */
  buffer: Buffer;
  start: number;
  end: number;
}

export class FrameError extends Error {}

/** Called for each complete frame: type byte, and its bytes [start, end) including the header. */
export type FrameVisitor = (code: number, buffer: Buffer, start: number, end: number) => void;

const HEADER = 5;

export class FrameReader {
  /** Chunks of an incomplete frame, joined when complete. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Total length of the frame being collected, once its header is known. */
  private pendingFrameLength = 0;

  constructor(
    private readonly maxFrameLength: number,
    private readonly validCodes?: ReadonlySet<number>,
  ) {}

  /**
   * Takes a chunk; visits each complete frame in order and returns the region of complete frames
   * (empty when none). Throws FrameError on a bad header; the stream cannot be resynchronised
   * after that, so the caller drops the connection.
   */
  feed(chunk: Buffer, visit: FrameVisitor): FrameRegion {
    let buffer = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingFrameLength === 0 && this.pendingBytes >= HEADER) {
        this.pendingFrameLength = this.frameLength(Buffer.concat(this.pending, HEADER), 0);
      }
      if (this.pendingFrameLength === 0 || this.pendingBytes < this.pendingFrameLength) {
        return { buffer: chunk, start: 0, end: 0 };
      }
      buffer = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.pendingFrameLength = 0;
    }

    let offset = 0;
    while (buffer.length - offset >= HEADER) {
      const length = this.frameLength(buffer, offset);
      if (buffer.length - offset < length) break;
      visit(buffer[offset]!, buffer, offset, offset + length);
      offset += length;
    }
    if (offset < buffer.length) {
      const rest = buffer.subarray(offset);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
      this.pendingFrameLength = rest.length >= HEADER ? this.frameLength(rest, 0) : 0;
    }
    return { buffer, start: 0, end: offset };
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.pendingBytes;
  }

  private frameLength(buffer: Buffer, offset: number): number {
    const code = buffer[offset]!;
    if (this.validCodes && !this.validCodes.has(code)) {
      throw new FrameError(`unknown message type 0x${code.toString(16).padStart(2, '0')}`);
    }
    const length = buffer.readInt32BE(offset + 1);
    if (length < 4) throw new FrameError(`invalid message length ${length}`);
    if (length > this.maxFrameLength) {
      throw new FrameError(`message of ${length} bytes exceeds the limit of ${this.maxFrameLength}`);
    }
    return length + 1;
  }
}
