import { Injectable } from '@nestjs/common';
import { status, type Metadata } from '@grpc/grpc-js';
import { PrismaService } from '../db/prisma.service.js';
import { agentTokenMatches, parseAgentToken } from '../agents/agent-token.js';
import { StreamError } from './stream-error.js';

export interface AuthenticatedAgent {
  id: string;
  name: string;
  labels: string[];
  nextRecordingSeq: bigint;
}

/** One answer for every failure, so a caller cannot tell a wrong secret from an unknown agent. */
const REFUSED = 'agent token is missing, unknown or revoked';

/** Checks `authorization: Bearer <agent token>` against the stored sha256 of the token. */
@Injectable()
export class AgentAuthenticator {
  constructor(private readonly prisma: PrismaService) {}

  async authenticate(metadata: Metadata): Promise<AuthenticatedAgent> {
    const header = metadata.get('authorization')[0];
    const token = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
    if (!token) throw new StreamError(status.UNAUTHENTICATED, REFUSED);
    const agentId = parseAgentToken(token)?.agentId;
    if (!agentId) throw new StreamError(status.UNAUTHENTICATED, REFUSED);
    const agent = await this.prisma.agent.findUnique({
      where: { id: agentId },
      select: { id: true, name: true, labels: true, tokenHash: true, revokedAt: true, nextRecordingSeq: true },
    });
    if (!agent || agent.revokedAt || !agentTokenMatches(token, agent.tokenHash)) {
      throw new StreamError(status.UNAUTHENTICATED, REFUSED);
    }
    return { id: agent.id, name: agent.name, labels: agent.labels, nextRecordingSeq: agent.nextRecordingSeq };
  }
}
