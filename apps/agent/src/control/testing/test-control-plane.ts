import {
  Server,
  ServerCredentials,
  status as grpcStatus,
  type ServerDuplexStream,
} from '@grpc/grpc-js';
import {
  AgentServiceService,
  type AgentMessage,
  type ConfigSnapshot,
  type ControlMessage,
  type Hello,
  type RecordingEvent,
} from '@portcullis/proto';

type Call = ServerDuplexStream<AgentMessage, ControlMessage>;

/**
 * A real AgentService gRPC server playing the control plane in tests: checks the bearer token,
 * answers Hello with Welcome and the current snapshot, stores recordings by seq (once each, as
 * the real store does) and acknowledges them unless told not to.
 */
export class TestControlPlane {
  readonly received: AgentMessage[] = [];
  readonly hellos: Hello[] = [];
  /** Stored recording events by seq. */
  readonly stored = new Map<number, RecordingEvent>();
  /** Every recording event received, duplicates included. */
  receivedEvents = 0;
  snapshot: ConfigSnapshot | undefined;
  autoAck = true;
  heartbeatIntervalMs = 200;
  private server: Server | undefined;
  private readonly calls = new Set<Call>();
  port = 0;

  constructor(private readonly token: string) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Plaintext unless `tls` (PEM) is given. */
  async start(port = this.port, tls?: { cert: Buffer; key: Buffer }): Promise<void> {
    const server = new Server();
    server.addService(AgentServiceService, { connect: (call: Call) => this.onConnect(call) });
    const credentials = tls ? ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }]) : ServerCredentials.createInsecure();
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    this.server = server;
  }

  /** Drops every stream and stops listening (the control plane going away). */
  stop(): void {
    for (const call of this.calls) call.destroy();
    this.calls.clear();
    this.server?.forceShutdown();
    this.server = undefined;
  }

  connectedAgents(): number {
    return this.calls.size;
  }

  push(snapshot: ConfigSnapshot): void {
    this.snapshot = snapshot;
    for (const call of this.calls) call.write({ body: { $case: 'config', value: snapshot } });
  }

  send(message: ControlMessage): void {
    for (const call of this.calls) call.write(message);
  }

  /** Highest seq such that every seq from the first stored one up to it is stored. */
  contiguousUpTo(): number {
    const seqs = [...this.stored.keys()].sort((a, b) => a - b);
    let upTo = 0;
    for (const seq of seqs) {
      if (upTo !== 0 && seq !== upTo + 1) break;
      upTo = seq;
    }
    return upTo;
  }

  messagesOf<C extends NonNullable<AgentMessage['body']>['$case']>(kind: C): Array<Extract<NonNullable<AgentMessage['body']>, { $case: C }>['value']> {
    return this.received.flatMap((m) => (m.body?.$case === kind ? [m.body.value as never] : []));
  }

  private onConnect(call: Call): void {
    if (call.metadata.get('authorization')[0] !== `Bearer ${this.token}`) {
      call.emit('error', { code: grpcStatus.UNAUTHENTICATED, details: 'unknown agent token' });
      return;
    }
    this.calls.add(call);
    call.on('data', (message: AgentMessage) => this.onMessage(call, message));
    const forget = (): void => void this.calls.delete(call);
    call.on('end', () => {
      forget();
      call.end();
    });
    call.on('error', forget);
    call.on('cancelled', forget);
  }

  private onMessage(call: Call, message: AgentMessage): void {
    this.received.push(message);
    const body = message.body;
    if (body?.$case === 'hello') {
      this.hellos.push(body.value);
      const next = this.stored.size === 0 ? 1 : Math.max(...this.stored.keys()) + 1;
      call.write({
        body: { $case: 'welcome', value: { agentId: 'agent-1', agentName: 'test-agent', heartbeatIntervalMs: this.heartbeatIntervalMs, nextRecordingSeq: next } },
      });
      if (this.snapshot && this.snapshot.version !== body.value.lastConfigVersion) {
        call.write({ body: { $case: 'config', value: this.snapshot } });
      }
    } else if (body?.$case === 'recordingBatch') {
      for (const event of body.value.events) {
        this.receivedEvents++;
        if (!this.stored.has(event.seq)) this.stored.set(event.seq, event);
      }
      if (this.autoAck) call.write({ body: { $case: 'recordingAck', value: { upToSeq: body.value.lastSeq } } });
    }
  }
}
