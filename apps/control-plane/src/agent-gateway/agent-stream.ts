import type { ServerDuplexStream, status } from '@grpc/grpc-js';
import type { AgentMessage, ControlMessage, Hello } from '@portcullis/proto';
import type { AuthenticatedAgent } from './agent-authenticator.js';

export type ConnectCall = ServerDuplexStream<AgentMessage, ControlMessage>;

/** One open Connect stream of one agent on this replica. */
export class AgentStream {
  /** Set by Hello; also the identity of this stream in the store (see AgentPresence). */
  hello: Hello | undefined;
  connectedAt = new Date();
  /** The config version the agent holds as far as this stream knows (Hello, then what was sent). */
  agentHas = 0;
  ended = false;

  /** Inbound messages are handled strictly one after another, so batches are stored in order. */
  private inbound: Promise<void> = Promise.resolve();
  private pushing: Promise<void> | undefined;
  private pushAgain = false;

  constructor(
    readonly agent: AuthenticatedAgent,
    private readonly call: ConnectCall,
  ) {}

  send(message: ControlMessage): void {
    if (!this.ended) this.call.write(message);
  }

  /** Ends the stream with a status for the agent; messages already written are delivered first. */
  close(code: status, details: string): void {
    if (this.ended) return;
    this.ended = true;
    this.call.emit('error', { code, details });
  }

  enqueue(work: () => Promise<void>): void {
    this.inbound = this.inbound.then(() => (this.ended ? undefined : work()));
  }

  /**
   * Runs `push` now, or once more after the running one: pushes never overlap, so an older
   * snapshot can never overtake a newer one, and a burst of changes costs at most two builds.
   */
  schedulePush(push: () => Promise<void>): Promise<void> {
    if (this.pushing) {
      this.pushAgain = true;
      return this.pushing;
    }
    this.pushing = (async () => {
      do {
        this.pushAgain = false;
        await push();
      } while (this.pushAgain && !this.ended);
    })().finally(() => {
      this.pushing = undefined;
    });
    return this.pushing;
  }
}
