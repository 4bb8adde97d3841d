import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import type { AppConfig } from '@loyalty/config';
import { getPostgresBalance, getRedisBalance, RedisProjectionNotReadyError, type Balance } from '@loyalty/read-models';
import { ActiveRedisPrefix } from '../../infrastructure/active-redis-prefix';
import { RedisFreshness } from '../../infrastructure/redis-freshness';
import { CONFIG, PG_POOL, REDIS } from '../../infrastructure/tokens';
import { GetBalanceQuery } from './get-balance.query';

const MAX_WAIT_MS = 5000;

@QueryHandler(GetBalanceQuery)
export class GetBalanceHandler implements IQueryHandler<GetBalanceQuery, Balance | null> {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly redisPrefix: ActiveRedisPrefix,
    private readonly freshness: RedisFreshness,
  ) {}

  async execute({ memberId, minSequence }: GetBalanceQuery): Promise<Balance | null> {
    const deadline = Date.now() + MAX_WAIT_MS;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const balance = await this.read(memberId, minSequence);
      if (!minSequence || (balance && balance.sequence >= minSequence) || Date.now() >= deadline) return balance;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Redis first; Postgres when Redis lost its data, is behind what was asked for, or lacks the member while behind Postgres. */
  private async read(memberId: string, minSequence?: number): Promise<Balance | null> {
    try {
      const fromRedis = await getRedisBalance(this.redis, { prefix: await this.redisPrefix.get(), memberId });
      if (fromRedis && (!minSequence || fromRedis.sequence >= minSequence)) return fromRedis;
      if (!fromRedis && !minSequence && (await this.freshness.caughtUpWithPostgres())) return null;
    } catch (err) {
      if (!(err instanceof RedisProjectionNotReadyError)) throw err;
    }
    const fromPostgres = await getPostgresBalance(this.pool, { schema: this.config.postgres.schema, memberId });
    return fromPostgres;
  }
}
