import type { Duplex } from 'node:stream';
import { ProtocolError } from './protocol.js';

/** The peer went away mid-handshake (psql does this when it needs to prompt for a password). */
export class HandshakeClosed extends ProtocolError {}

/**
 * Reads the few messages of the handshake (startup packets, password, upstream auth) one at a
 * time with await. Only used before the session is established; once it is, `detach()` returns
 * any bytes read past the last message and the streaming pump (frames.ts) takes over.
 */
export class HandshakeReader {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private waiter?: () => void;
  private ended = false;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.waiter?.();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.waiter?.();
  };

  constructor(private readonly stream: Duplex) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
  }

  /** An untyped startup-phase packet: returns its body after the length word. */
  async startupPacket(maxLength: number): Promise<Buffer> {
    const length = (await this.peek(4)).readInt32BE(0);
    if (length < 8 || length > maxLength) throw new ProtocolError(`invalid startup packet length ${length}`);
    return (await this.take(length)).subarray(4);
  }

  /** A typed message: its code and the whole frame. */
  async frame(maxLength: number): Promise<{ code: number; frame: Buffer }> {
    const header = await this.peek(5);
    const length = header.readInt32BE(1);
    if (length < 4 || length > maxLength) throw new ProtocolError(`invalid message length ${length}`);
    const frame = await this.take(length + 1);
    return { code: frame[0]!, frame };
  }

  /** Stops reading; returns bytes received beyond the messages taken. */
  detach(): Buffer {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    const rest = Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    return rest;
  }

  private async peek(length: number): Promise<Buffer> {
    while (this.bytes < length) {
      if (this.ended) throw new HandshakeClosed('connection closed during handshake');
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
    if (this.chunks[0]!.length < length) this.chunks = [Buffer.concat(this.chunks, this.bytes)];
    return this.chunks[0]!;
  }

  private async take(length: number): Promise<Buffer> {
    await this.peek(length);
    const first = this.chunks[0]!;
    const taken = first.subarray(0, length);
    if (first.length === length) this.chunks.shift();
    else this.chunks[0] = first.subarray(length);
    this.bytes -= length;
    return taken;
  }
}
