import { Injectable, Logger } from '@nestjs/common';
import { PrismaService, type Tx } from '../db/prisma.service.js';
import { ChangeBus } from './change-bus.js';

/**
 * Every change to what agents must know goes through `apply`: the change and the version bump
 * commit together, then every control-plane replica is told (Redis pub/sub) to push the new
 * snapshot to the agents it holds. No replica keeps config in memory as a source of truth.
 */
@Injectable()
export class ConfigChangesService {
  private readonly log = new Logger(ConfigChangesService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly bus: ChangeBus,
  ) {}

  async apply<T>(change: (tx: Tx) => Promise<T>): Promise<T> {
    const { result, version } = await this.prisma.$transaction(async (tx) => {
      const result = await change(tx);
      const state = await tx.configState.upsert({
        where: { id: 1 },
        create: { id: 1, version: 2n },
        update: { version: { increment: 1n }, changedAt: new Date() },
      });
      return { result, version: state.version };
    });
    // The change is committed: a failed announcement must not report it as failed. Every replica
    // also compares config_state.version on a timer, so the push is late, never lost.
    await this.bus.publishConfigChanged(version).catch((err: Error) => {
      this.log.warn(`config version ${version} committed but not announced on Redis: ${err.message}`);
    });
    return result;
  }
}
