import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ConnectionTestResult } from '@portcullis/proto';
import { ChangeBus } from '../config-stream/change-bus.js';

/**
 * Connection test answers, matched to their waiting request by id. An answer comes up the stream
 * of the agent, which may be held by another replica than the one that asked: an answer nobody
 * waits for here is announced on Redis, and the replica waiting for it takes it from there.
 */
@Injectable()
export class ConnectionTestAnswers implements OnModuleInit {
  private readonly log = new Logger(ConnectionTestAnswers.name);
  private readonly waiting = new Map<string, (result: ConnectionTestResult | undefined) => void>();

  constructor(private readonly bus: ChangeBus) {}

  async onModuleInit(): Promise<void> {
    await this.bus.onConnectionTestResult((result) => this.waiting.get(result.requestId)?.(result));
  }

  /** The answer to `requestId`, or undefined when none came within `timeoutMs` (or `cancel`). */
  expect(requestId: string, timeoutMs: number): Promise<ConnectionTestResult | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      const settle = (result: ConnectionTestResult | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(requestId);
        resolve(result);
      };
      this.waiting.set(requestId, settle);
    });
  }

  cancel(requestId: string): void {
    this.waiting.get(requestId)?.(undefined);
  }

  /** An answer that came up a stream this replica holds. */
  received(result: ConnectionTestResult): void {
    const waiter = this.waiting.get(result.requestId);
    if (waiter) return waiter(result);
    this.bus
      .publishConnectionTestResult(result)
      .catch((err: Error) => this.log.warn(`connection test answer ${result.requestId} not relayed: ${err.message}`));
  }
}
