import { mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { RecordingEvent, type SessionEnd, type SessionStart, type Statement } from '@portcullis/proto';
import type { Logger } from 'pino';
import type { AgentMetrics } from '../status/metrics.js';
import { EVENT_TAG, SpoolCorruption, readRecord, varintLength, writeVarint } from './records.js';
import type { Recorder } from './recorder.js';

export interface SpoolOptions {
  /** Folder of segment files (`<dataDir>/spool`). */
  dir: string;
  /** Beyond this many bytes (on disk + waiting), new events are dropped and counted. */
  maxBytes: number;
  /** refuse: `accepting()` turns false when the spool is (nearly) full or the disk fails. */
  failureMode: 'refuse' | 'serve';
  log: Logger;
  metrics?: AgentMetrics;
  /** A segment is closed (fsynced) and a new one started past this size. Default: 16 MiB or maxBytes / 8. */
  segmentBytes?: number;
  /** Group commit: events gathered for this long are written with one write(). */
  flushIntervalMs?: number;
  /** The active segment is fdatasync'ed this often when it has new data. */
  syncIntervalMs?: number;
}

interface Segment {
  /** Lower bound of the seqs in this segment and upper bound (exclusive) of those before it. */
  firstSeq: number;
  path: string;
  /** Bytes written to the OS. */
  size: number;
}

interface Chunk {
  buf: Buffer;
  length: number;
  firstSeq: number;
  lastSeq: number;
  firstTime: number;
}

/** Where the shipper is in the spool: a segment (by its first seq) and a byte offset in it. */
export interface SpoolCursor {
  segment: number;
  offset: number;
}

export interface SpoolRead {
  /** Complete records, ready to be the events of a RecordingBatch. */
  records: Buffer;
  firstSeq: number;
  lastSeq: number;
  count: number;
  next: SpoolCursor;
}

const SEGMENT_SUFFIX = '.seg';
/** Engines cap result previews and texts far below this. */
const MAX_EVENT_BYTES = 3 * 1024 * 1024;
const segmentName = (firstSeq: number): string => `${String(firstSeq).padStart(20, '0')}${SEGMENT_SUFFIX}`;

/**
 * The recorder's disk spool: append-only segment files named by the first seq they hold.
 *
 * Hot path: `statement()` encodes the event once into an in-memory buffer and returns; a timer
 * writes everything gathered with one write() every few milliseconds (group commit) and the
 * active segment is fdatasync'ed every second and when it is rotated.
 *
 * Durability: an event reaches the OS within `flushIntervalMs` (2 ms) of being recorded; it
 * survives a crash of the agent process from then on, and a crash of the host once synced (at
 * most ~1 s later, or at rotation). Records torn by a crash are cut off at the next start.
 */
export class Spool implements Recorder {
  private segments: Segment[] = [];
  private active!: FileHandle;
  private nextSeq = 1;
  private ackedSeq = 0;
  /** Last seq handed to the OS. */
  private lastWrittenSeq = 0;
  private diskBytes = 0;
  /** Reused for every event: half the cost of a fresh writer (and its buffer) per event. */
  private readonly encoder = new BinaryWriter();
  private pending: Buffer = Buffer.allocUnsafe(64 * 1024);
  private pendingLength = 0;
  private pendingFirstSeq = 0;
  private pendingLastSeq = 0;
  private pendingFirstTime = 0;
  /** A chunk whose write failed, retried before anything newer. */
  private retry: Chunk | undefined;
  private writing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly syncTimer: NodeJS.Timeout;
  private unsynced = false;
  private failing = false;
  private closed = false;
  /** Oldest first: the time the first event of each written chunk was recorded. */
  private unackedMarks: Array<{ lastSeq: number; time: number }> = [];
  private readonly writtenListeners: Array<() => void> = [];
  private readonly segmentBytes: number;
  private readonly flushIntervalMs: number;
  /** Statements are refused this far before the hard limit, so session ends still fit. */
  private readonly reserve: number;

  private constructor(private readonly options: SpoolOptions) {
    this.segmentBytes = options.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.floor(options.maxBytes / 8));
    this.flushIntervalMs = options.flushIntervalMs ?? 2;
    this.reserve = Math.min(1024 * 1024, Math.floor(options.maxBytes / 16));
    this.syncTimer = setInterval(() => void this.sync(), options.syncIntervalMs ?? 1000).unref();
  }

  /** Opens the spool, cutting off a torn tail and recovering the next seq from the last segment. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const spool = new Spool(options);
    await spool.recover();
    return spool;
  }

  // ---- Recorder (engines) -----------------------------------------------------------------

  accepting(): boolean {
    if (this.options.failureMode === 'serve') return true;
    return !this.failing && !this.closed && this.bytes() < this.options.maxBytes - this.reserve;
  }

  sessionStart(sessionId: string, start: SessionStart): void {
    this.append(sessionId, { $case: 'sessionStart', value: start });
  }

  statement(sessionId: string, statement: Statement): void {
    this.append(sessionId, { $case: 'statement', value: statement });
  }

  sessionEnd(sessionId: string, end: SessionEnd): void {
    this.append(sessionId, { $case: 'sessionEnd', value: end });
  }

  // ---- control plane (shipper, control client) -------------------------------------------

  /** Welcome: the control plane stores everything below `nextSeq`; never number below it. */
  raiseSeqFloor(nextSeq: number): void {
    if (nextSeq > this.nextSeq) {
      if (this.nextSeq - 1 > this.ackedSeq) {
        this.options.log.warn(
          { from: this.ackedSeq + 1, to: this.nextSeq - 1, controlPlaneNext: nextSeq },
          'spooled events carry seqs the control plane already stored (was the data dir reset?); they will be seen as duplicates',
        );
      }
      this.nextSeq = nextSeq;
    }
    this.acknowledge(nextSeq - 1);
  }

  /** Everything up to `upToSeq` is stored: delete the segments holding nothing newer. */
  acknowledge(upToSeq: number): void {
    if (upToSeq <= this.ackedSeq) return;
    this.ackedSeq = upToSeq;
    while (this.unackedMarks.length > 0 && this.unackedMarks[0]!.lastSeq <= upToSeq) this.unackedMarks.shift();
    this.deleteAcknowledged();
    this.retireFullyAcknowledgedActive();
  }

  private deleteAcknowledged(): void {
    while (this.segments.length > 1 && this.segments[1]!.firstSeq - 1 <= this.ackedSeq) {
      const done = this.segments.shift()!;
      this.diskBytes -= done.size;
      unlink(done.path).catch((err: Error) => this.options.log.error({ path: done.path, err: err.message }, 'could not delete an acknowledged spool segment'));
    }
  }

  /**
   * At the size limit with everything acknowledged, the active segment is all that is left and
   * nothing new is written that would rotate it: start a new one so the old can go.
   */
  private retireFullyAcknowledgedActive(): void {
    const active = this.segments[this.segments.length - 1]!;
    if (active.size === 0 || this.writing || this.pendingLength > 0 || this.retry || this.closed) return;
    if (this.ackedSeq < this.lastWrittenSeq || this.bytes() < this.options.maxBytes - this.reserve) return;
    this.writing = this.rotate(this.nextSeq)
      .then(() => this.deleteAcknowledged())
      .catch((err: Error) => this.options.log.error({ err: err.message }, 'could not start a new spool segment'))
      .finally(() => {
        this.writing = undefined;
        if (this.pendingLength > 0) setImmediate(() => void this.write());
      });
  }

  acknowledgedSeq(): number {
    return this.ackedSeq;
  }

  /** Called after each write reaches the OS (the shipper wakes up). */
  onWritten(listener: () => void): void {
    this.writtenListeners.push(listener);
  }

  /** Cursor at the oldest record still on disk. */
  start(): SpoolCursor {
    return { segment: this.segments[0]!.firstSeq, offset: 0 };
  }

  /**
   * Up to `maxEvents` / about `maxBytes` of whole records after `afterSeq`, from `cursor` on;
   * undefined when there is nothing more on disk yet.
   */
  async read(cursor: SpoolCursor, afterSeq: number, maxEvents: number, maxBytes: number): Promise<SpoolRead | undefined> {
    let index = this.segments.findIndex((s) => s.firstSeq === cursor.segment);
    let offset = cursor.offset;
    if (index < 0) {
      index = 0; // its segment was acknowledged and deleted meanwhile
      offset = 0;
    }
    for (;;) {
      const segment = this.segments[index];
      if (!segment) return undefined;
      if (offset >= segment.size) {
        if (index === this.segments.length - 1) return undefined;
        index++;
        offset = 0;
        continue;
      }
      let want = Math.min(segment.size - offset, maxBytes);
      let buf = await readAt(segment.path, offset, want);
      if (!buf) {
        index = 0; // deleted while we read: start over from the oldest kept segment
        offset = 0;
        if (this.segments[0]?.firstSeq === segment.firstSeq) return undefined;
        continue;
      }
      let pos = 0;
      let firstSeq = 0;
      let lastSeq = 0;
      let count = 0;
      let start = 0;
      try {
        while (count < maxEvents) {
          const record = readRecord(buf, pos, buf.length);
          if ('incomplete' in record) {
            // One event larger than maxBytes: read exactly that one.
            if (pos === 0 && record.incomplete > buf.length && offset + record.incomplete <= segment.size) {
              want = record.incomplete;
              buf = await readAt(segment.path, offset, want);
              if (!buf) break;
              continue;
            }
            break;
          }
          if (record.seq <= afterSeq) {
            start = record.end;
          } else {
            if (count === 0) firstSeq = record.seq;
            lastSeq = record.seq;
            count++;
          }
          pos = record.end;
        }
      } catch (err) {
        if (!(err instanceof SpoolCorruption)) throw err;
        this.options.metrics?.recordingFailures.inc({ reason: 'corrupt_segment' });
        this.options.log.error({ path: segment.path, offset: offset + pos, err: err.message }, 'corrupt spool segment; skipping the rest of it');
        if (index === this.segments.length - 1) return undefined;
        index++;
        offset = 0;
        continue;
      }
      if (!buf) continue;
      const next = { segment: segment.firstSeq, offset: offset + pos };
      if (count > 0) return { records: buf.subarray(start, pos), firstSeq, lastSeq, count, next };
      if (pos === 0) return undefined;
      offset += pos; // only acknowledged records here: skip them
    }
  }

  stats(): { bytes: number; backlog: number; oldestUnackedAgeSeconds: number } {
    const floor = Math.max(this.ackedSeq, (this.segments[0]?.firstSeq ?? 1) - 1);
    const oldest = this.unackedMarks[0]?.time ?? (this.pendingLength > 0 ? this.pendingFirstTime : undefined);
    return {
      bytes: this.bytes(),
      backlog: Math.max(0, this.nextSeq - 1 - floor),
      oldestUnackedAgeSeconds: oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
    };
  }

  /** Writes everything recorded so far and syncs it (shutdown, tests). */
  async flush(): Promise<void> {
    while ((this.pendingLength > 0 || this.retry || this.writing) && !this.failing) {
      if (this.writing) await this.writing;
      else await this.write();
    }
    await this.sync();
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.failing) {
      const lostBytes = this.pendingLength + (this.retry?.length ?? 0);
      this.options.log.error({ lostBytes }, 'closing the recording spool with events the disk did not take');
    }
    this.closed = true;
    clearInterval(this.syncTimer);
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
    await this.active.close();
  }

  // ---- internals --------------------------------------------------------------------------

  private bytes(): number {
    return this.diskBytes + this.pendingLength + (this.retry?.length ?? 0);
  }

  private append(sessionId: string, body: RecordingEvent['body']): void {
    if (this.closed) {
      this.options.metrics?.recordingFailures.inc({ reason: 'closed' });
      return;
    }
    const seq = this.nextSeq;
    let event: Uint8Array;
    try {
      event = RecordingEvent.encode({ seq, time: new Date(), sessionId, body }, this.encoder).finish();
    } catch (err) {
      this.encoder.finish(); // drop what the failed encode left behind
      this.options.metrics?.recordingFailures.inc({ reason: 'encode' });
      this.options.log.error({ sessionId, err: (err as Error).message }, 'could not encode a recording event');
      return;
    }
    if (event.length > MAX_EVENT_BYTES) {
      // It could never be shipped (gRPC's default message limit is 4 MiB) and would stall the rest.
      this.options.metrics?.recordingFailures.inc({ reason: 'too_large' });
      this.options.log.error({ sessionId, bytes: event.length }, 'recording event too large to ship; dropped');
      return;
    }
    const size = 1 + varintLength(event.length) + event.length;
    if (this.bytes() + size > this.options.maxBytes) {
      this.options.metrics?.recordingFailures.inc({ reason: 'spool_full' });
      return;
    }
    this.nextSeq++;
    if (this.pendingLength + size > this.pending.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.pending.length * 2, this.pendingLength + size));
      this.pending.copy(grown, 0, 0, this.pendingLength);
      this.pending = grown;
    }
    if (this.pendingLength === 0) {
      this.pendingFirstSeq = seq;
      this.pendingFirstTime = Date.now();
    }
    this.pendingLastSeq = seq;
    let pos = this.pendingLength;
    this.pending[pos++] = EVENT_TAG;
    pos = writeVarint(this.pending, pos, event.length);
    this.pending.set(event, pos);
    this.pendingLength = pos + event.length;
    if (!this.flushTimer && !this.writing && !this.retryTimer) {
      this.flushTimer = setTimeout(() => void this.write(), this.flushIntervalMs);
    }
  }

  private takePending(): Chunk {
    const chunk = {
      buf: this.pending,
      length: this.pendingLength,
      firstSeq: this.pendingFirstSeq,
      lastSeq: this.pendingLastSeq,
      firstTime: this.pendingFirstTime,
    };
    // The written buffer stays with the chunk until write() finishes; start a fresh one.
    this.pending = Buffer.allocUnsafe(Math.min(this.pending.length, 4 * 1024 * 1024));
    this.pendingLength = 0;
    return chunk;
  }

  private write(): Promise<void> {
    this.flushTimer = undefined;
    if (this.writing || (this.pendingLength === 0 && !this.retry)) return this.writing ?? Promise.resolve();
    const chunk = this.retry ?? this.takePending();
    this.writing = this.writeChunk(chunk).finally(() => {
      this.writing = undefined;
      if (this.pendingLength > 0 && !this.retryTimer && !this.closed) setImmediate(() => void this.write());
    });
    return this.writing;
  }

  private async writeChunk(chunk: Chunk): Promise<void> {
    let segment = this.segments[this.segments.length - 1]!;
    try {
      if (segment.size > 0 && segment.size + chunk.length > this.segmentBytes) segment = await this.rotate(chunk.firstSeq);
      const { bytesWritten } = await this.active.write(chunk.buf, 0, chunk.length, segment.size);
      if (bytesWritten !== chunk.length) throw new Error(`short write (${bytesWritten} of ${chunk.length} bytes)`);
    } catch (err) {
      this.retry = chunk;
      if (!this.failing) {
        this.options.log.error({ err: (err as Error).message, path: segment.path }, 'recording spool write failed; retrying every second');
      }
      this.failing = true;
      this.options.metrics?.recordingFailures.inc({ reason: 'write_error' });
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.write();
      }, 1000);
      return;
    }
    if (this.failing) this.options.log.info('recording spool writes recovered');
    this.failing = false;
    this.retry = undefined;
    segment.size += chunk.length;
    this.diskBytes += chunk.length;
    this.lastWrittenSeq = chunk.lastSeq;
    this.unsynced = true;
    this.unackedMarks.push({ lastSeq: chunk.lastSeq, time: chunk.firstTime });
    for (const listener of this.writtenListeners) listener();
  }

  /** Opens the next segment first, so a failure leaves the current one in use. */
  private async rotate(firstSeq: number): Promise<Segment> {
    const segment = { firstSeq, path: join(this.options.dir, segmentName(firstSeq)), size: 0 };
    const next = await open(segment.path, 'w', 0o600);
    const previous = this.active;
    this.active = next;
    this.segments.push(segment);
    this.unsynced = false;
    await previous.datasync();
    await previous.close();
    await syncDir(this.options.dir);
    return segment;
  }

  private async sync(): Promise<void> {
    if (!this.unsynced || this.closed) return;
    this.unsynced = false;
    try {
      await this.active.datasync();
    } catch (err) {
      this.unsynced = true;
      this.options.log.error({ err: (err as Error).message }, 'recording spool fsync failed');
    }
  }

  private async recover(): Promise<void> {
    const { dir, log } = this.options;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const names = (await readdir(dir)).filter((name) => /^\d{20}\.seg$/.test(name)).sort();
    this.segments = [];
    for (const name of names) {
      const path = join(dir, name);
      const handle = await open(path, 'r');
      const { size } = await handle.stat();
      await handle.close();
      this.segments.push({ firstSeq: Number(name.slice(0, 20)), path, size });
      this.diskBytes += size;
    }
    const last = this.segments[this.segments.length - 1];
    if (!last) {
      const segment = { firstSeq: 1, path: join(dir, segmentName(1)), size: 0 };
      this.active = await open(segment.path, 'w', 0o600);
      this.segments.push(segment);
      await syncDir(dir);
      return;
    }
    // Find the last whole record; whatever follows it was torn by a crash.
    const buf = (await readAt(last.path, 0, last.size)) ?? Buffer.alloc(0);
    let pos = 0;
    let lastSeq = last.firstSeq - 1;
    try {
      for (;;) {
        const record = readRecord(buf, pos, buf.length);
        if ('incomplete' in record) break;
        lastSeq = record.seq;
        pos = record.end;
      }
    } catch (err) {
      log.error({ path: last.path, offset: pos, err: (err as Error).message }, 'corrupt spool segment tail; cutting it off');
    }
    this.active = await open(last.path, 'r+');
    if (pos < last.size) {
      log.warn({ path: last.path, bytes: last.size - pos }, 'cutting off a torn record at the end of the spool');
      await this.active.truncate(pos);
      this.diskBytes -= last.size - pos;
      last.size = pos;
    }
    this.nextSeq = lastSeq + 1;
    this.lastWrittenSeq = lastSeq;
    const oldest = await this.oldestRecordTime();
    if (oldest !== undefined && this.nextSeq > this.segments[0]!.firstSeq) this.unackedMarks.push({ lastSeq, time: oldest });
    log.info({ segments: this.segments.length, bytes: this.diskBytes, nextSeq: this.nextSeq }, 'recording spool opened');
  }

  private async oldestRecordTime(): Promise<number | undefined> {
    for (const segment of this.segments) {
      const head = await readAt(segment.path, 0, Math.min(segment.size, 64 * 1024));
      if (!head || head.length === 0) continue;
      try {
        const record = readRecord(head, 0, head.length);
        if ('incomplete' in record) continue;
        return RecordingEvent.decode(head.subarray(record.body, record.end)).time?.getTime();
      } catch {
        continue;
      }
    }
    return undefined;
  }
}

/** Undefined when the file is gone. */
async function readAt(path: string, offset: number, length: number): Promise<Buffer | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
