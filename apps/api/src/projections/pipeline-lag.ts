import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import type { AppConfig } from '@loyalty/config';
import type { StageLag } from '@loyalty/kafka';
import { pipelineLag } from '@loyalty/read-models';
import { apiError } from '../common/error.filter';
import { reusedFor } from '../infrastructure/reused-for';
import { CONFIG, KAFKA, PG_POOL, REDIS } from '../infrastructure/tokens';

/** Committed offset, head and lag of every stage; one admin connection kept, answers reused for a second. */
@Injectable()
export class PipelineLag implements OnApplicationShutdown {
  private admin?: Promise<Admin>;
  /** maxAgeMs: how old an answer may be (0: read now). */
  readonly stages: (maxAgeMs?: number) => Promise<StageLag[]> = reusedFor(1000, () => this.measure());

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  private async measure(): Promise<StageLag[]> {
    try {
      this.admin ??= (async () => {
        const admin = this.kafka.admin();
        await admin.connect();
        return admin;
      })().catch((err) => {
        this.admin = undefined;
        throw err;
      });
      const admin = await this.admin;
      return await pipelineLag(admin, this.pool, this.redis, {
        topicPrefix: this.config.topics.prefix,
        schema: this.config.postgres.schema,
        redisPrefix: this.config.redis.keyPrefix,
      });
    } catch {
      throw apiError(503, 'unavailable', 'the pipeline offsets cannot be read right now; retry later');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const admin = await this.admin?.catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }
}
