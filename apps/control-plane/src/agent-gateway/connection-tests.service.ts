import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
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
  | { kind: 'no-answer'; agent: TestingAgent; reason: string };

/**
 * Asks one online agent that serves a connection to open its upstream, and waits for the answer.
 * An agent whose stream this replica holds is preferred; any other is reached through the replica
 * that holds it (Redis), since nothing may assume a single control-plane process.
 */
@Injectable()
export class ConnectionTests {
  constructor(
    private readonly presence: AgentPresence,
    private readonly streams: AgentStreams,
    private readonly answers: ConnectionTestAnswers,
    private readonly bus: ChangeBus,
  ) {}

  async run(connection: { name: string; networkLabels: string[] }): Promise<ConnectionTestRun> {
    const candidates = await this.presence.onlineAgentsServing(connection.networkLabels);
    const agent = candidates.find((a) => this.streams.holds(a.id)) ?? candidates[0];
    if (!agent) return { kind: 'no-agent' };

    const requestId = randomUUID();
    const answer = this.answers.expect(requestId, CONNECTION_TEST_WAIT_MS);
    const request: ControlMessage = {
      body: { $case: 'connectionTestRequest', value: { requestId, connection: connection.name } },
    };
    try {
      if (!(await this.streams.deliver(agent.id, request))) await this.bus.publishToAgent(agent.id, request);
    } catch (err) {
      this.answers.cancel(requestId);
      return { kind: 'no-answer', agent, reason: `the request could not be sent to it (${(err as Error).message})` };
    }
    const result = await answer;
    return result
      ? { kind: 'answered', agent, result }
      : { kind: 'no-answer', agent, reason: `it did not answer within ${CONNECTION_TEST_WAIT_MS / 1000} s` };
  }
}
