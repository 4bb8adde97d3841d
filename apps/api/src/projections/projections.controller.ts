import { Controller, Get, Inject } from '@nestjs/common';
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { AppConfig } from '@loyalty/config';
import { pipelineSources, stageLags, topicNames, type StageLag } from '@loyalty/kafka';
import { readModelOffsets } from '@loyalty/read-models';
import { RequiresRole } from '../auth/api-key.guard';
import { CONFIG, KAFKA, PG_POOL, REDIS } from '../infrastructure/tokens';

/** GET /v1/projections: every stage and partition; lag 0 everywhere means all that was published is visible. */
@Controller('v1/projections')
export class ProjectionsController {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  @Get()
  @RequiresRole('operator')
  async projections(): Promise<{ stages: StageLag[]; lag: number }> {
    const prefix = this.config.topics.prefix;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const stores = await readModelOffsets(this.pool, this.redis, {
        schema: this.config.postgres.schema,
        redisPrefix: this.config.redis.keyPrefix,
        eventsTopic: topicNames(prefix).events,
      });
      const stages = await stageLags(admin, pipelineSources(prefix, stores));
      return { stages, lag: stages.reduce((n, s) => n + s.lag, 0) };
    } finally {
      await admin.disconnect();
    }
  }
}
