import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig } from '@loyalty/config';
import { activeRedisPrefix } from '@loyalty/read-models';
import { CONFIG, REDIS } from './tokens';

const TTL_MS = 1000;

/** The prefix of the live Redis read model (a replay swaps it through a pointer key); cached for a second. */
@Injectable()
export class ActiveRedisPrefix {
  private cached?: { prefix: string; at: number };

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async get(): Promise<string> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < TTL_MS) return this.cached.prefix;
    const prefix = await activeRedisPrefix(this.redis, this.config.redis.keyPrefix);
    this.cached = { prefix, at: now };
    return prefix;
  }
}
