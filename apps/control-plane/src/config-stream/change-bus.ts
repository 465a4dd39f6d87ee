import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ConnectionTestResult, ControlMessage } from '@portcullis/proto';
import { AppConfig } from '../config/app-config.js';

const CONFIG_CHANGED = 'portcullis:config-changed';
const AGENT_CONNECTED = 'portcullis:agent-connected';
const TO_AGENT = 'portcullis:to-agent';
const CONNECTION_TEST_RESULT = 'portcullis:connection-test-result';

type Listener = (message: string) => void;

/**
 * Redis pub/sub between control-plane replicas. The announcements are hints, not the source of
 * truth: a lost one only delays a push until the next reconciliation pass (see AgentStreams). The
 * two request/answer channels are best-effort: a lost message there fails that connection test
 * with a timeout, and the admin asks again.
 *  - config changed: every replica pushes fresh snapshots to the agents whose streams it holds;
 *  - agent connected: a replica still holding an older stream of that agent closes it;
 *  - to agent: the replica holding that agent's stream sends the message down it;
 *  - connection test result: the replica that asked (and waits for) that request id answers it.
 */
@Injectable()
export class ChangeBus implements OnModuleDestroy {
  private readonly log = new Logger(ChangeBus.name);
  private readonly publisher: Redis;
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(private readonly config: AppConfig) {
    this.publisher = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  }

  async publishConfigChanged(version: bigint): Promise<void> {
    await this.publisher.publish(CONFIG_CHANGED, version.toString());
  }

  async onConfigChanged(listener: (version: bigint) => void): Promise<void> {
    await this.listen(CONFIG_CHANGED, (message) => {
      if (/^\d+$/.test(message)) listener(BigInt(message));
    });
  }

  async publishAgentConnected(agentId: string, connectedAt: Date): Promise<void> {
    await this.publisher.publish(AGENT_CONNECTED, JSON.stringify({ agentId, connectedAt: connectedAt.getTime() }));
  }

  async onAgentConnected(listener: (agentId: string, connectedAt: Date) => void): Promise<void> {
    await this.listenJson(AGENT_CONNECTED, ({ agentId, connectedAt }) => {
      if (typeof agentId === 'string' && typeof connectedAt === 'number') listener(agentId, new Date(connectedAt));
    });
  }

  async publishToAgent(agentId: string, message: ControlMessage): Promise<void> {
    await this.publisher.publish(
      TO_AGENT,
      JSON.stringify({ agentId, message: toBase64(ControlMessage.encode(message).finish()) }),
    );
  }

  async onToAgent(listener: (agentId: string, message: ControlMessage) => void): Promise<void> {
    await this.listenJson(TO_AGENT, ({ agentId, message }) => {
      if (typeof agentId === 'string' && typeof message === 'string')
        listener(agentId, ControlMessage.decode(fromBase64(message)));
    });
  }

  /** `agentId`: the agent whose stream the answer came up. */
  async publishConnectionTestResult(agentId: string, result: ConnectionTestResult): Promise<void> {
    await this.publisher.publish(
      CONNECTION_TEST_RESULT,
      JSON.stringify({ agentId, result: toBase64(ConnectionTestResult.encode(result).finish()) }),
    );
  }

  async onConnectionTestResult(listener: (agentId: string, result: ConnectionTestResult) => void): Promise<void> {
    await this.listenJson(CONNECTION_TEST_RESULT, ({ agentId, result }) => {
      if (typeof agentId === 'string' && typeof result === 'string')
        listener(agentId, ConnectionTestResult.decode(fromBase64(result)));
    });
  }

  /** A channel of JSON objects (protobuf messages travel inside as base64); malformed ones are logged and dropped. */
  private async listenJson(channel: string, handle: (message: Record<string, unknown>) => void): Promise<void> {
    await this.listen(channel, (raw) => {
      try {
        handle(JSON.parse(raw) as Record<string, unknown>);
      } catch {
        this.log.warn(`ignored a malformed ${channel} message`);
      }
    });
  }

  private async listen(channel: string, listener: Listener): Promise<void> {
    if (!this.subscriber) {
      // ioredis re-subscribes by itself after a reconnect.
      this.subscriber = new Redis(this.config.redisUrl, { lazyConnect: true });
      this.subscriber.on('message', (ch: string, message: string) => {
        for (const l of this.listeners.get(ch) ?? []) l(message);
      });
      this.subscriber.on('error', (err: Error) => this.log.warn(`redis subscriber: ${err.message}`));
    }
    const existing = this.listeners.get(channel);
    if (existing) {
      existing.push(listener);
      return;
    }
    this.listeners.set(channel, [listener]);
    await this.subscriber.subscribe(channel);
  }

  async onModuleDestroy(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber?.disconnect();
  }
}

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const fromBase64 = (text: string): Uint8Array => Buffer.from(text, 'base64');
