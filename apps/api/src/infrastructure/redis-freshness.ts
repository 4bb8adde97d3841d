import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import type { AppConfig } from '@loyalty/config';
import type { TopicNames } from '@loyalty/kafka';
import { readModelOffsets, redisHasAllOfPostgres } from '@loyalty/read-models';
import { CONFIG, PG_POOL, REDIS, TOPICS } from './tokens';

const TTL_MS = 1000;

/**
 * Whether the Redis read model has caught up with Postgres, read at most once a second.
 * A balance that Redis does not have is then answered as unknown without asking Postgres:
 * lookups of people who are not members (a till asking whether a customer is enrolled)
 * would otherwise each cost Postgres a query. At most a second stale, like the read models.
 */
@Injectable()
export class RedisFreshness {
  private cached?: { caughtUp: boolean; at: number };
  private reading?: Promise<boolean>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(TOPICS) private readonly topics: TopicNames,
  ) {}

  caughtUpWithPostgres(): Promise<boolean> | boolean {
    if (this.cached && Date.now() - this.cached.at < TTL_MS) return this.cached.caughtUp;
    this.reading ??= readModelOffsets(this.pool, this.redis, { schema: this.config.postgres.schema, redisPrefix: this.config.redis.keyPrefix, eventsTopic: this.topics.events })
      .then(redisHasAllOfPostgres, () => false) // unknown: ask Postgres, as before
      .then((caughtUp) => {
        this.cached = { caughtUp, at: Date.now() };
        this.reading = undefined;
        return caughtUp;
      });
    return this.reading;
  }
}
