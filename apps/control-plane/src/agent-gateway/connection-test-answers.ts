import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ConnectionTestResult } from '@portcullis/proto';
import { ChangeBus } from '../config-stream/change-bus.js';

interface Waiter {
  /** The agent that was asked: only its answer settles the request. */
  agentId: string;
  settle(result: ConnectionTestResult | undefined): void;
}

/**
 * Connection test answers, matched to their waiting request by id and by the agent that was
 * asked. An answer comes up the stream of the agent, which may be held by another replica than
 * the one that asked: an answer nobody waits for here is announced on Redis, with the agent it
 * came from, and the replica waiting for it takes it from there.
 */
@Injectable()
export class ConnectionTestAnswers implements OnModuleInit {
  private readonly log = new Logger(ConnectionTestAnswers.name);
  private readonly waiting = new Map<string, Waiter>();

  constructor(private readonly bus: ChangeBus) {}

  async onModuleInit(): Promise<void> {
    await this.bus.onConnectionTestResult((agentId, result) => this.answer(agentId, result));
  }

  /** The answer of `agentId` to `requestId`, or undefined when none came within `timeoutMs` (or `cancel`). */
  expect(requestId: string, agentId: string, timeoutMs: number): Promise<ConnectionTestResult | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      const settle = (result: ConnectionTestResult | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(requestId);
        resolve(result);
      };
      this.waiting.set(requestId, { agentId, settle });
    });
  }

  cancel(requestId: string): void {
    this.waiting.get(requestId)?.settle(undefined);
  }

  /** An answer that came up the stream of `agentId`, held by this replica. */
  received(agentId: string, result: ConnectionTestResult): void {
    if (this.answer(agentId, result)) return;
    this.bus
      .publishConnectionTestResult(agentId, result)
      .catch((err: Error) => this.log.warn(`connection test answer ${result.requestId} not relayed: ${err.message}`));
  }

  /** Settles the request the answer is for; false when no request of this replica waits for it. */
  private answer(agentId: string, result: ConnectionTestResult): boolean {
    const waiter = this.waiting.get(result.requestId);
    if (!waiter) return false;
    // Another agent cannot speak for the one asked: its answer is dropped, the request waits on.
    if (waiter.agentId !== agentId) {
      this.log.warn(`connection test answer ${result.requestId} came from agent ${agentId}, not the agent asked; ignored`);
      return true;
    }
    waiter.settle(result);
    return true;
  }
}
