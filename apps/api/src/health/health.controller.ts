import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import type { HttpReply } from '../common/http-server';
import { NoQuery } from '../common/request.dto';
import { HealthView } from '../common/response.dto';
import { Route } from '../common/route.decorator';
import { KAFKA, PG_POOL, REDIS } from '../infrastructure/tokens';

type Check = { status: 'up' | 'down'; ms: number; error?: string };

async function timed(fn: () => Promise<unknown>, timeoutMs = 2000): Promise<Check> {
  const started = Date.now();
  try {
    await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref())]);
    return { status: 'up', ms: Date.now() - started };
  } catch (err) {
    return { status: 'down', ms: Date.now() - started, error: (err as Error).message };
  }
}

@ApiTags('operations')
@Controller()
export class HealthController {
  private admin?: Admin;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  @Get('health')
  @Route('public', 'Readiness of Kafka, Postgres and Redis')
  @ApiResponse({ status: 200, type: HealthView, description: 'all up' })
  @ApiResponse({ status: 503, type: HealthView, description: 'one or more down' })
  async health(@NoQuery() _q: object, @Res() reply: HttpReply): Promise<void> {
    const [kafka, postgres, redis] = await Promise.all([
      timed(async () => {
        if (!this.admin) {
          const admin = this.kafka.admin();
          await admin.connect();
          this.admin = admin;
        }
        await this.admin.describeCluster();
      }),
      timed(() => this.pool.query('select 1')),
      timed(() => this.redis.ping()),
    ]);
    const up = [kafka, postgres, redis].every((c) => c.status === 'up');
    void reply.code(up ? 200 : 503).send({ status: up ? 'ok' : 'degraded', checks: { kafka, postgres, redis } });
  }
}
