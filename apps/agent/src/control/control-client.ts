import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  Metadata,
  credentials as grpcCredentials,
  makeGenericClientConstructor,
  type Client,
  status as grpcStatus,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  AgentMessage,
  AgentServiceService,
  type ConfigSnapshot,
  type Connection,
  type ConnectionTestRequest,
  type ControlMessage,
  type Welcome,
} from '@portcullis/proto';
import type { Logger } from 'pino';
import type { AdvertisedAddress } from '../config.js';
import type { ConnectionTestAnswer } from '../connection-test/connection-test.js';
import type { Engine } from '../engines/engine.js';
import type { Shipper } from '../recorder/shipper.js';
import type { Spool } from '../recorder/spool.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import type { AgentMetrics } from '../status/metrics.js';
import { Backoff } from './backoff.js';

/**
 * AgentService with one change on the agent's side: a message may also be given already encoded
 * (a Buffer), which is how recording batches go out without re-encoding spooled events.
 * Same method path and wire format as the generated AgentServiceClient.
 */
const agentService = {
  connect: {
    ...AgentServiceService.connect,
    requestSerialize: (message: AgentMessage | Buffer): Buffer =>
      Buffer.isBuffer(message) ? message : Buffer.from(AgentMessage.encode(message).finish()),
  },
};
type ControlStream = ClientDuplexStream<AgentMessage | Buffer, ControlMessage>;
const AgentServiceClient = makeGenericClientConstructor(agentService, 'portcullis.agent.v1.AgentService') as unknown as {
  new (...args: ConstructorParameters<ReturnType<typeof makeGenericClientConstructor>>): Client & { connect(metadata: Metadata): ControlStream };
};

export interface ControlClientOptions {
  /** host:port of the control plane's AgentService. */
  address: string;
  /** Sent as `authorization: Bearer`; never logged. */
  agentToken: string;
  insecure: boolean;
  caFile?: string;
  version: string;
  labels: string[];
  addresses: () => AdvertisedAddress[];
  store: SnapshotStore;
  spool: Spool;
  shipper: Shipper;
  engines: () => Engine[];
  /** Opens a connection's upstream as the data path would (connection-test/), on request of an admin. */
  testConnection: (connection: Connection) => Promise<ConnectionTestAnswer>;
  log: Logger;
  metrics?: AgentMetrics;
  /** Reconnect backoff, full jitter: first ceiling (200 ms) and cap (3 s, so an agent is back within 5 s even on a busy host). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Retry period after the control plane refused the token. */
  refusedRetryMs?: number;
}

export interface ControlStatus {
  connected: boolean;
  agentId: string | undefined;
  agentName: string | undefined;
  lastError: string | undefined;
}

/**
 * The agent's one outbound stream to the control plane: Hello, then config snapshots down and
 * acks, heartbeats and recordings up. It reconnects forever with jittered exponential backoff.
 *
 * A refused token (UNAUTHENTICATED / PERMISSION_DENIED) is retried every `refusedRetryMs` (30 s)
 * with the same token: that covers an agent deployed before it was registered or re-enabled. A
 * new token needs a restart (the token is read once; Kubernetes restarts pods on secret change).
 */
export class ControlClient {
  private readonly channelCredentials: ChannelCredentials;
  private client: InstanceType<typeof AgentServiceClient> | undefined;
  private readonly backoff: Backoff;
  private stream: ControlStream | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private stopped = false;
  private welcome: Welcome | undefined;
  private lastError: string | undefined;
  private lastUnreachableWarning = 0;
  /** Snapshots are applied in arrival order, one at a time. */
  private configs: Promise<void> = Promise.resolve();

  constructor(private readonly options: ControlClientOptions) {
    this.channelCredentials = options.insecure
      ? grpcCredentials.createInsecure()
      : grpcCredentials.createSsl(options.caFile ? readFileSync(options.caFile) : null);
    this.backoff = new Backoff(options.initialBackoffMs ?? 200, options.maxBackoffMs ?? 3000);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    this.endStream();
    this.client?.close();
    this.client = undefined;
  }

  status(): ControlStatus {
    return {
      connected: this.welcome !== undefined && this.stream !== undefined,
      agentId: this.welcome?.agentId,
      agentName: this.welcome?.agentName,
      lastError: this.lastError,
    };
  }

  private connect(): void {
    // A fresh channel for each attempt: a channel that failed keeps its own reconnect backoff and
    // fails new calls fast until it has reconnected, which can lag seconds behind the control
    // plane's return. With a new channel the backoff below alone decides when the agent is back.
    this.client?.close();
    this.client = new AgentServiceClient(this.options.address, this.channelCredentials, {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${this.options.agentToken}`);
    const stream = this.client.connect(metadata);
    this.stream = stream;
    this.welcome = undefined;
    let ended = false;
    const end = (error: ServiceError | undefined): void => {
      if (ended) return;
      ended = true;
      this.onStreamEnd(stream, error);
    };
    stream.on('data', (message: ControlMessage) => this.onMessage(stream, message));
    // grpc-js always ends a call with 'status', preceded by 'error' when it is not OK.
    stream.on('error', (error: ServiceError) => end(error));
    stream.on('status', (s: { code: number; details: string }) => {
      if (s.code !== grpcStatus.OK) end(Object.assign(new Error(s.details), { code: s.code }) as ServiceError);
      else end(undefined);
    });
    stream.on('drain', () => this.options.shipper.drained());
    stream.write({
      body: {
        $case: 'hello',
        value: {
          version: this.options.version,
          labels: this.options.labels,
          addresses: this.options.addresses(),
          lastConfigVersion: this.options.store.version(),
          hostname: hostname(),
        },
      },
    });
  }

  private onMessage(stream: ControlStream, message: ControlMessage): void {
    if (stream !== this.stream || !message.body) return;
    const { log } = this.options;
    switch (message.body.$case) {
      case 'welcome':
        return this.onWelcome(stream, message.body.value);
      case 'config':
        return this.onConfig(stream, message.body.value);
      case 'recordingAck':
        return this.options.shipper.acknowledge(message.body.value.upToSeq);
      case 'ping':
        return this.sendHeartbeat(stream);
      case 'killSessions': {
        const { subject, reason } = message.body.value;
        let ended = 0;
        for (const engine of this.options.engines()) ended += engine.endSessionsOf(subject, reason);
        log.info({ subject, reason, sessions: ended }, 'sessions ended on request of the control plane');
        return;
      }
      case 'reviewDecision':
        log.warn({ reviewId: message.body.value.reviewId }, 'review decisions are not supported by this agent yet');
        return;
      case 'connectionTestRequest':
        return this.onConnectionTest(message.body.value);
    }
  }

  /**
   * Runs once the snapshots that came before the request are applied: the control plane pushes its
   * newest snapshot before asking, so a connection created a moment ago is known here. The answer
   * goes on whatever stream is open by then; the control plane matches it by request id.
   */
  private onConnectionTest(request: ConnectionTestRequest): void {
    const { log, store, testConnection } = this.options;
    const run = async (): Promise<void> => {
      const connection = store.current()?.connections.find((c) => c.name === request.connection);
      const answer: ConnectionTestAnswer = connection
        ? await testConnection(connection)
        : {
            ok: false,
            latencyMs: 0,
            detail: '',
            errorCode: 'not_served',
            errorMessage: `connection "${request.connection}" is not in this agent's configuration`,
          };
      const { ok, errorCode, latencyMs } = answer;
      log.info({ connection: request.connection, ok, errorCode, latencyMs }, 'connection tested for the control plane');
      this.stream?.write({
        body: { $case: 'connectionTestResult', value: { requestId: request.requestId, ...answer } },
      });
    };
    this.configs.then(run, run).catch((err: Error) => {
      log.warn({ connection: request.connection, err: err.message }, 'connection test answer not sent');
    });
  }

  private onWelcome(stream: ControlStream, welcome: Welcome): void {
    const { log, metrics, spool, shipper, store } = this.options;
    this.welcome = welcome;
    this.lastError = undefined;
    this.backoff.reset();
    metrics?.connected.set(1);
    store.setControlPlaneConnected(true);
    log.info({ agentId: welcome.agentId, agentName: welcome.agentName }, 'connected to the control plane');
    spool.raiseSeqFloor(welcome.nextRecordingSeq);
    shipper.attach({ write: (frame) => stream.write(frame) });
    clearInterval(this.heartbeat);
    const every = welcome.heartbeatIntervalMs > 0 ? welcome.heartbeatIntervalMs : 10_000;
    this.heartbeat = setInterval(() => this.sendHeartbeat(stream), every).unref();
  }

  private onConfig(stream: ControlStream, snapshot: ConfigSnapshot): void {
    this.configs = this.configs.then(async () => {
      const result = await this.options.store.apply(snapshot);
      if (stream !== this.stream) return;
      stream.write(
        result.ok
          ? { body: { $case: 'configAck', value: { version: snapshot.version } } }
          : { body: { $case: 'configRejected', value: { version: snapshot.version, error: result.error } } },
      );
    });
  }

  private sendHeartbeat(stream: ControlStream): void {
    if (stream !== this.stream) return;
    const spool = this.options.spool.stats();
    const liveSessions = this.options.engines().reduce((sum, engine) => sum + engine.liveSessions(), 0);
    stream.write({
      body: {
        $case: 'heartbeat',
        value: {
          liveSessions,
          counters: { spoolBytes: spool.bytes, spoolBacklog: spool.backlog, shippingLagSeconds: spool.oldestUnackedAgeSeconds },
        },
      },
    });
  }

  private onStreamEnd(stream: ControlStream, error: ServiceError | undefined): void {
    if (stream !== this.stream) return;
    const { log, metrics, shipper, store } = this.options;
    const wasConnected = this.welcome !== undefined;
    this.endStream();
    metrics?.connected.set(0);
    store.setControlPlaneConnected(false);
    shipper.detach();
    if (this.stopped) return;

    let delay: number;
    if (error?.code === grpcStatus.UNAUTHENTICATED || error?.code === grpcStatus.PERMISSION_DENIED) {
      this.lastError = 'agent token refused by the control plane';
      delay = this.options.refusedRetryMs ?? 30_000;
      log.error({ controlPlane: this.options.address, retryInMs: delay }, 'agent token refused by the control plane; check PORTCULLIS_AGENT_TOKEN');
    } else {
      this.lastError = error ? `control plane stream: ${error.details || error.message}` : 'control plane closed the stream';
      delay = this.backoff.next();
      const entry = { controlPlane: this.options.address, error: this.lastError, retryInMs: Math.round(delay) };
      if (wasConnected) log.warn(entry, 'lost the control plane; serving from the last snapshot and reconnecting');
      else if (Date.now() - this.lastUnreachableWarning > 60_000) {
        this.lastUnreachableWarning = Date.now();
        log.warn(entry, 'control plane not reachable; retrying (logged once a minute)');
      } else log.debug(entry, 'control plane not reachable; retrying');
    }
    this.reconnect = setTimeout(() => this.connect(), delay);
  }

  private endStream(): void {
    clearInterval(this.heartbeat);
    const stream = this.stream;
    this.stream = undefined;
    this.welcome = undefined;
    if (stream) {
      stream.removeAllListeners('drain');
      stream.cancel();
    }
  }
}
