import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { ConnectionTestResult, ControlMessage } from '@portcullis/proto';
import { ChangeBus } from '../config-stream/change-bus.js';
import { AgentPresence } from './agent-presence.service.js';
import { AgentStreams } from './agent-streams.service.js';
import { ConnectionTestAnswers } from './connection-test-answers.js';

/** Twice the agent's own bound (5 s), so its timeout answer arrives before this one fires. */
export const CONNECTION_TEST_WAIT_MS = 10_000;

export interface TestingAgent {
  id: string;
  name: string;
}

export type ConnectionTestRun =
  | { kind: 'answered'; agent: TestingAgent; result: ConnectionTestResult }
  | { kind: 'no-agent' }
  /** The request never left this replica (Redis unreachable): nothing was asked of the agent. */
  | { kind: 'not-sent'; agent: TestingAgent }
  | { kind: 'no-answer'; agent: TestingAgent };

/**
 * Asks one online agent that serves a connection to open its upstream, and waits for the answer.
 * An agent whose stream this replica holds is preferred; any other is reached through the replica
 * that holds it (Redis), since nothing may assume a single control-plane process.
 */
@Injectable()
export class ConnectionTests {
  private readonly log = new Logger(ConnectionTests.name);

  constructor(
    private readonly presence: AgentPresence,
    private readonly streams: AgentStreams,
    private readonly answers: ConnectionTestAnswers,
    private readonly bus: ChangeBus,
  ) {}

  async run(connection: { name: string; networkLabels: string[] }): Promise<ConnectionTestRun> {
    const candidates = await this.presence.onlineAgentsServing(connection.networkLabels);
    const chosen = candidates.find((a) => this.streams.holds(a.id)) ?? candidates[0];
    if (!chosen) return { kind: 'no-agent' };
    const agent: TestingAgent = { id: chosen.id, name: chosen.name };

    const requestId = randomUUID();
    const answer = this.answers.expect(requestId, agent.id, CONNECTION_TEST_WAIT_MS);
    const request: ControlMessage = {
      body: { $case: 'connectionTestRequest', value: { requestId, connection: connection.name } },
    };
    try {
      if (!(await this.streams.deliver(agent.id, request))) await this.bus.publishToAgent(agent.id, request);
    } catch (err) {
      this.answers.cancel(requestId);
      this.log.warn(`connection test for agent ${agent.name} not sent: ${(err as Error).message}`);
      return { kind: 'not-sent', agent };
    }
    const result = await answer;
    return result ? { kind: 'answered', agent, result } : { kind: 'no-answer', agent };
  }
}
