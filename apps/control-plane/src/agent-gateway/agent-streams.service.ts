import { Injectable, Logger } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import type { AgentMessage, ControlMessage, Hello, RecordingBatch, ReviewRequest } from '@portcullis/proto';
import { AppConfig } from '../config/app-config.js';
import { ChangeBus } from '../config-stream/change-bus.js';
import { SnapshotBuilder } from '../config-stream/snapshot-builder.js';
import { AgentAuthenticator } from './agent-authenticator.js';
import { AgentPresence } from './agent-presence.service.js';
import { AgentStream, type ConnectCall } from './agent-stream.js';
import { ConnectionTestAnswers } from './connection-test-answers.js';
import { RecordingIngest } from './recording-ingest.service.js';
import { StreamError } from './stream-error.js';

const HELLO_TIMEOUT_MS = 15_000;

/**
 * The Connect streams this replica holds, at most one per agent. Pushes snapshots on every change
 * announced on the ChangeBus and, as a safety net for lost announcements, whenever a timer finds
 * config_state ahead of what an agent holds; the same timer marks silent agents offline.
 */
@Injectable()
export class AgentStreams {
  private readonly log = new Logger(AgentStreams.name);
  private readonly streams = new Map<string, AgentStream>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly config: AppConfig,
    private readonly bus: ChangeBus,
    private readonly snapshots: SnapshotBuilder,
    private readonly authenticator: AgentAuthenticator,
    private readonly presence: AgentPresence,
    private readonly recordings: RecordingIngest,
    private readonly testAnswers: ConnectionTestAnswers,
  ) {}

  /** Subscribes before the gRPC port opens, so no change can slip between connect and subscribe. */
  async start(): Promise<void> {
    await this.bus.onConfigChanged((version) => this.pushAll(Number(version)));
    await this.bus.onAgentConnected((agentId, connectedAt) => {
      const stream = this.streams.get(agentId);
      if (stream && stream.connectedAt < connectedAt)
        stream.close(status.CANCELLED, 'replaced by a newer stream of this agent');
    });
    await this.bus.onToAgent((agentId, message) => void this.deliver(agentId, message));
    const every = Math.min(this.config.heartbeatIntervalMs, this.config.agentOfflineAfterMs / 2);
    this.timer = setInterval(() => void this.reconcile(), every);
    this.timer.unref();
  }

  /** Ends every stream and records those agents offline before the store closes. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping = true;
    const held = [...this.streams.values()];
    this.streams.clear();
    for (const stream of held) stream.close(status.UNAVAILABLE, 'control plane is shutting down');
    await Promise.all(held.map((stream) => this.markOffline(stream)));
  }

  /** Whether this replica holds an open stream of the agent. */
  holds(agentId: string): boolean {
    return this.streams.get(agentId)?.hello !== undefined;
  }

  /**
   * Sends a request down the agent's stream if this replica holds it (false otherwise), after the
   * newest snapshot: the agent answers about the configuration the caller just saw.
   */
  async deliver(agentId: string, message: ControlMessage): Promise<boolean> {
    const stream = this.streams.get(agentId);
    if (!stream?.hello) return false;
    await this.push(stream);
    stream.send(message);
    return true;
  }

  /** The AgentService.Connect handler. */
  connect(call: ConnectCall): void {
    void this.authenticator.authenticate(call.metadata).then(
      (agent) => this.attach(new AgentStream(agent, call), call),
      (err: unknown) => {
        const { code, details } = asStatus(err);
        if (code !== status.UNAUTHENTICATED) this.log.error(`agent authentication failed: ${details}`);
        call.emit('error', { code, details });
      },
    );
  }

  private attach(stream: AgentStream, call: ConnectCall): void {
    const helloTimer = setTimeout(
      () => stream.close(status.DEADLINE_EXCEEDED, `no Hello within ${HELLO_TIMEOUT_MS / 1000} s`),
      HELLO_TIMEOUT_MS,
    );
    let cleanedUp = false;
    const ended = () => {
      clearTimeout(helloTimer);
      if (cleanedUp) return;
      cleanedUp = true;
      stream.ended = true;
      if (this.streams.get(stream.agent.id) === stream) this.streams.delete(stream.agent.id);
      if (stream.hello && !this.stopping) void this.markOffline(stream);
    };
    call.on('cancelled', ended);
    call.on('finish', ended);
    call.on('close', ended);
    // The agent half-closed: answer what it sent (acks included), then finish our side too.
    call.on('end', () => stream.enqueue(async () => void call.end()));
    call.on('data', (message: AgentMessage) => {
      clearTimeout(helloTimer);
      stream.enqueue(() =>
        this.handle(stream, message).catch((err: unknown) => {
          const { code, details } = asStatus(err);
          if (code === status.INTERNAL)
            this.log.error(`agent ${stream.agent.name}: ${(err as Error).stack ?? details}`);
          else this.log.warn(`agent ${stream.agent.name}: ${details}`);
          stream.close(code, details);
        }),
      );
    });
  }

  private async markOffline(stream: AgentStream): Promise<void> {
    if (!stream.hello) return;
    this.log.log(`agent ${stream.agent.name} disconnected`);
    await this.presence
      .disconnected(stream.agent.id, stream.connectedAt)
      .catch((err: Error) => this.log.warn(`agent ${stream.agent.name}: offline not stored: ${err.message}`));
  }

  private async handle(stream: AgentStream, message: AgentMessage): Promise<void> {
    const body = message.body;
    if (!stream.hello) {
      if (body?.$case !== 'hello') throw new StreamError(status.INVALID_ARGUMENT, 'the first message must be Hello');
      return this.hello(stream, body.value);
    }
    const agentId = stream.agent.id;
    switch (body?.$case) {
      case 'heartbeat':
        if (!(await this.presence.heartbeat(agentId, body.value))) {
          throw new StreamError(status.UNAUTHENTICATED, 'agent was revoked');
        }
        return;
      case 'configAck':
        return this.presence.acked(agentId, body.value);
      case 'configRejected':
        this.log.warn(`agent ${stream.agent.name} rejected config version ${body.value.version}`);
        return this.presence.rejected(agentId, body.value);
      case 'recordingBatch':
        return this.recording(stream, body.value);
      case 'reviewRequest':
        return this.refuseReview(stream, body.value);
      case 'connectionTestResult':
        return this.testAnswers.received(agentId, body.value);
      case 'hello':
        throw new StreamError(status.INVALID_ARGUMENT, 'Hello may only be the first message');
      default:
        throw new StreamError(status.INVALID_ARGUMENT, 'empty or unknown message');
    }
  }

  private async hello(stream: AgentStream, hello: Hello): Promise<void> {
    const { agent } = stream;
    if (this.stopping) throw new StreamError(status.UNAVAILABLE, 'control plane is shutting down');
    const previous = this.streams.get(agent.id);
    // connectedAt names this stream in the store: keep it unique per agent on this replica.
    if (previous && previous.connectedAt >= stream.connectedAt) {
      stream.connectedAt = new Date(previous.connectedAt.getTime() + 1);
    }
    previous?.close(status.CANCELLED, 'replaced by a newer stream of this agent');
    this.streams.set(agent.id, stream);
    stream.hello = hello;
    stream.agentHas = hello.lastConfigVersion;

    await this.presence.connected(agent.id, hello, stream.connectedAt);
    this.bus
      .publishAgentConnected(agent.id, stream.connectedAt)
      .catch((err: Error) => this.log.warn(`agent ${agent.name}: connect not announced: ${err.message}`));
    this.log.log(`agent ${agent.name} connected (version ${hello.version || '?'}, host ${hello.hostname || '?'})`);
    const reported = [...hello.labels].sort().join(',');
    if (hello.labels.length > 0 && reported !== [...agent.labels].sort().join(',')) {
      this.log.warn(
        `agent ${agent.name} reports labels [${reported}] but is registered with [${agent.labels.join(',')}]; the registered labels decide what it serves`,
      );
    }

    stream.send({
      body: {
        $case: 'welcome',
        value: {
          agentId: agent.id,
          agentName: agent.name,
          heartbeatIntervalMs: this.config.heartbeatIntervalMs,
          nextRecordingSeq: Number(agent.nextRecordingSeq),
        },
      },
    });
    await this.push(stream);
  }

  /** Acked only after the transaction committed; a failed batch ends the stream (see below). */
  private async recording(stream: AgentStream, batch: RecordingBatch): Promise<void> {
    try {
      await this.recordings.store(stream.agent.id, batch);
    } catch (err) {
      if (err instanceof StreamError) throw err;
      // Acking a later batch would claim this one stored too: end the stream instead, and the
      // agent reconnects and resends from Welcome.nextRecordingSeq.
      this.log.error(
        `agent ${stream.agent.name}: recording batch ${batch.firstSeq}..${batch.lastSeq} not stored: ${(err as Error).message}`,
      );
      throw new StreamError(status.UNAVAILABLE, 'recording batch not stored; reconnect and resend');
    }
    stream.send({ body: { $case: 'recordingAck', value: { upToSeq: batch.lastSeq } } });
  }

  /** Steward reviews are not served yet: refuse at once rather than leave the statement parked. */
  private async refuseReview(stream: AgentStream, review: ReviewRequest): Promise<void> {
    stream.send({
      body: {
        $case: 'reviewDecision',
        value: {
          reviewId: review.reviewId,
          outcome: 'rejected',
          steward: '',
          reason: 'reviews are not available on this control plane yet',
        },
      },
    });
  }

  private pushAll(version: number): void {
    for (const stream of this.streams.values()) {
      if (stream.hello && stream.agentHas < version) void this.push(stream);
    }
  }

  private push(stream: AgentStream): Promise<void> {
    return stream.schedulePush(async () => {
      try {
        const snapshot = await this.snapshots.build(stream.agent.id);
        if (!snapshot) return stream.close(status.UNAUTHENTICATED, 'agent was revoked');
        // Versions only grow and pushes never overlap: a different version is a newer one.
        if (snapshot.version === stream.agentHas) return;
        stream.agentHas = snapshot.version;
        stream.send({ body: { $case: 'config', value: snapshot } });
      } catch (err) {
        // The reconcile timer retries; the agent keeps serving its last snapshot meanwhile.
        this.log.error(`agent ${stream.agent.name}: snapshot not pushed: ${(err as Error).message}`);
      }
    });
  }

  private async reconcile(): Promise<void> {
    try {
      await this.presence.markSilentOffline();
      if (this.streams.size === 0) return;
      this.pushAll(await this.snapshots.currentVersion());
    } catch (err) {
      this.log.warn(`agent reconcile pass failed: ${(err as Error).message}`);
    }
  }
}

function asStatus(err: unknown): { code: status; details: string } {
  if (err instanceof StreamError) return { code: err.code, details: err.details };
  return { code: status.INTERNAL, details: 'internal error' };
}
