import type { Logger } from 'pino';
import { varintLength, writeVarint } from './records.js';
import type { Spool, SpoolCursor, SpoolRead } from './spool.js';

/** The open control stream as the shipper sees it: `false` means wait for `drained()`. */
export interface BatchSink {
  write(encodedAgentMessage: Buffer): boolean;
}

export interface ShipperOptions {
  log: Logger;
  maxEvents?: number;
  maxBytes?: number;
  /** Batches sent and not yet acknowledged, at most. */
  window?: number;
}

/** AgentMessage field 5 (recording_batch), wire type 2. */
const RECORDING_BATCH_TAG = 0x2a;

/**
 * An encoded `AgentMessage{recording_batch}` around records taken from the spool as they are
 * (they already are encoded `RecordingBatch.events` entries).
 */
export function encodeBatchMessage(read: Pick<SpoolRead, 'firstSeq' | 'lastSeq' | 'records'>): Buffer {
  const bodyLength = 2 + varintLength(read.firstSeq) + varintLength(read.lastSeq) + read.records.length;
  const header = Buffer.allocUnsafe(1 + varintLength(bodyLength) + bodyLength - read.records.length);
  let pos = 0;
  header[pos++] = RECORDING_BATCH_TAG;
  pos = writeVarint(header, pos, bodyLength);
  header[pos++] = 0x08;
  pos = writeVarint(header, pos, read.firstSeq);
  header[pos++] = 0x10;
  pos = writeVarint(header, pos, read.lastSeq);
  return Buffer.concat([header.subarray(0, pos), read.records]);
}

/**
 * Ships the spool in seq order over the control stream while one is attached, with a bounded
 * window of unacknowledged batches. Each attach starts again from the first unacknowledged event
 * (the control plane stores each (agent, seq) once, so resent events are harmless).
 */
export class Shipper {
  private sink: BatchSink | undefined;
  /** Bumped on attach/detach so a pump started for an old stream stops. */
  private generation = 0;
  private cursor: SpoolCursor | undefined;
  private sentSeq = 0;
  private inFlight: number[] = [];
  private blocked = false;
  private pumping = false;
  private again = false;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly window: number;

  constructor(
    private readonly spool: Spool,
    private readonly options: ShipperOptions,
  ) {
    this.maxEvents = options.maxEvents ?? 500;
    this.maxBytes = options.maxBytes ?? 1024 * 1024;
    this.window = options.window ?? 8;
    spool.onWritten(() => this.pump());
  }

  attach(sink: BatchSink): void {
    this.generation++;
    this.sink = sink;
    this.cursor = this.spool.start();
    this.sentSeq = this.spool.acknowledgedSeq();
    this.inFlight = [];
    this.blocked = false;
    this.pump();
  }

  detach(): void {
    this.generation++;
    this.sink = undefined;
  }

  acknowledge(upToSeq: number): void {
    this.spool.acknowledge(upToSeq);
    while (this.inFlight.length > 0 && this.inFlight[0]! <= upToSeq) this.inFlight.shift();
    this.pump();
  }

  /** The stream took everything written so far. */
  drained(): void {
    this.blocked = false;
    this.pump();
  }

  private pump(): void {
    if (!this.sink) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.run()
      .catch((err: Error) => this.options.log.error({ err: err.message }, 'recording shipper failed; retrying on the next write or ack'))
      .finally(() => {
        this.pumping = false;
        if (this.again) {
          this.again = false;
          this.pump();
        }
      });
  }

  private async run(): Promise<void> {
    const generation = this.generation;
    while (this.sink && !this.blocked && this.inFlight.length < this.window) {
      const read = await this.spool.read(this.cursor!, this.sentSeq, this.maxEvents, this.maxBytes);
      if (generation !== this.generation || !this.sink) return;
      if (!read) return;
      this.cursor = read.next;
      this.sentSeq = read.lastSeq;
      this.inFlight.push(read.lastSeq);
      if (!this.sink.write(encodeBatchMessage(read))) this.blocked = true;
    }
  }
}
