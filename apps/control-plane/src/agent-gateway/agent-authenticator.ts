import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { status, type Metadata } from '@grpc/grpc-js';
import { PrismaService } from '../db/prisma.service.js';
import { hashAgentToken, parseAgentToken } from '../agents/agent-token.js';
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
    let agentId: string | undefined;
    try {
      agentId = parseAgentToken(token)?.agentId;
    } catch {
      agentId = undefined;
    }
    if (!agentId) throw new StreamError(status.UNAUTHENTICATED, REFUSED);
    const agent = await this.prisma.agent.findUnique({
      where: { id: agentId },
      select: { id: true, name: true, labels: true, tokenHash: true, revokedAt: true, nextRecordingSeq: true },
    });
    if (!agent || agent.revokedAt || !sameHash(hashAgentToken(token), agent.tokenHash)) {
      throw new StreamError(status.UNAUTHENTICATED, REFUSED);
    }
    return { id: agent.id, name: agent.name, labels: agent.labels, nextRecordingSeq: agent.nextRecordingSeq };
  }
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
