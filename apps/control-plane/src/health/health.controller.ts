import { Controller, Get, HttpCode, ServiceUnavailableException, type OnModuleDestroy } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Redis } from 'ioredis';
import { Public } from '../auth/decorators.js';
import { AppConfig } from '../config/app-config.js';
import { PrismaService } from '../db/prisma.service.js';

const CHECK_TIMEOUT_MS = 2000;

/** Liveness and readiness for load balancers and Kubernetes probes; outside /api/v1, no token. */
@ApiExcludeController()
@Public()
@Controller()
export class HealthController implements OnModuleDestroy {
  private readonly redis: Redis;

  constructor(
    config: AppConfig,
    private readonly prisma: PrismaService,
  ) {
    // Fails fast instead of queueing: a readiness probe must answer, not wait for a reconnect.
    this.redis = new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    this.redis.on('error', () => undefined);
  }

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @HttpCode(200)
  async readyz(): Promise<{ status: 'ready' }> {
    const [postgres, redis] = await Promise.all([
      check(() => this.prisma.$queryRaw`SELECT 1`),
      check(async () => {
        if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect();
        await this.redis.ping();
      }),
    ]);
    const down = [postgres ? undefined : 'PostgreSQL', redis ? undefined : 'Redis'].filter(Boolean);
    if (down.length) throw new ServiceUnavailableException(`not ready: ${down.join(' and ')} unreachable`);
    return { status: 'ready' };
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}

async function check(probe: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
