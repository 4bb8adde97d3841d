import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig } from '@loyalty/config';
import { activeRedisPrefix } from '@loyalty/read-models';
import { reusedFor } from './reused-for';
import { CONFIG, REDIS } from './tokens';

/** The prefix of the live Redis read model (a replay swaps it through a pointer key); read at most once a second. */
@Injectable()
export class ActiveRedisPrefix {
  readonly get: () => Promise<string>;

  constructor(@Inject(REDIS) redis: Redis, @Inject(CONFIG) config: AppConfig) {
    this.get = reusedFor(1000, () => activeRedisPrefix(redis, config.redis.keyPrefix));
  }
}
