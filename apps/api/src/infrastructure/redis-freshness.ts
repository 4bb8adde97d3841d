import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import type { AppConfig } from '@loyalty/config';
import type { TopicNames } from '@loyalty/kafka';
import { readModelOffsets, redisHasAllOfPostgres } from '@loyalty/read-models';
import { reusedFor } from './reused-for';
import { CONFIG, PG_POOL, REDIS, TOPICS } from './tokens';

/**
 * Whether the Redis read model has caught up with Postgres, read at most once a second.
 * A balance that Redis does not have is then answered as unknown without asking Postgres:
 * lookups of people who are not members (a till asking whether a customer is enrolled)
 * would otherwise each cost Postgres a query. At most a second stale, like the read models.
 */
@Injectable()
export class RedisFreshness {
  readonly caughtUpWithPostgres: () => Promise<boolean>;

  constructor(@Inject(REDIS) redis: Redis, @Inject(PG_POOL) pool: Pool, @Inject(CONFIG) config: AppConfig, @Inject(TOPICS) topics: TopicNames) {
    this.caughtUpWithPostgres = reusedFor(1000, () =>
      readModelOffsets(pool, redis, { schema: config.postgres.schema, redisPrefix: config.redis.keyPrefix, eventsTopic: topics.events }).then(
        redisHasAllOfPostgres,
        () => false, // unknown: ask Postgres, as before
      ),
    );
  }
}
