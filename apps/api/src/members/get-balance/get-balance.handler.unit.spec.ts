import type { Pool } from 'pg';
import type Redis from 'ioredis';
import type { AppConfig } from '@loyalty/config';
import type { ActiveRedisPrefix } from '../../infrastructure/active-redis-prefix';
import type { RedisFreshness } from '../../infrastructure/redis-freshness';
import { GetBalanceHandler } from './get-balance.handler';
import { GetBalanceQuery } from './get-balance.query';

// The handler's choice of store, with the stores replaced by fakes that record what was asked.
function handlerWith(o: { redisBalance: Record<string, unknown> | null; postgresBalance: Record<string, unknown> | null; redisCaughtUp: boolean }) {
  const asked: string[] = [];
  const flat = o.redisBalance ? Object.entries(o.redisBalance).flatMap(([k, v]) => [k, String(v)]) : [];
  const redis = { evalsha: async () => (asked.push('redis'), [1, flat]) } as unknown as Redis;
  const pool = {
    query: async () => {
      asked.push('postgres');
      return { rows: o.postgresBalance ? [o.postgresBalance] : [] };
    },
  } as unknown as Pool;
  const config = { postgres: { schema: 'loyalty' } } as AppConfig;
  const prefix = { get: async () => 'p:' } as unknown as ActiveRedisPrefix;
  const freshness = { caughtUpWithPostgres: () => (asked.push('freshness'), o.redisCaughtUp) } as unknown as RedisFreshness;
  return { handler: new GetBalanceHandler(redis, pool, config, prefix, freshness), asked };
}

describe('GetBalanceHandler: which store answers', () => {
  it('given a member Redis does not know and Redis caught up with Postgres, when asked, then unknown without a Postgres query', async () => {
    const { handler, asked } = handlerWith({ redisBalance: null, postgresBalance: null, redisCaughtUp: true });
    expect(await handler.execute(new GetBalanceQuery('nobody'))).toBeNull();
    expect(asked).toEqual(['redis', 'freshness']);
  });

  it('given a member Redis does not know and Redis behind Postgres, when asked, then Postgres answers', async () => {
    const { handler, asked } = handlerWith({ redisBalance: null, postgresBalance: { member_id: 'm1', available: '40', sequence: '2' }, redisCaughtUp: false });
    const balance = await handler.execute(new GetBalanceQuery('m1'));
    expect(balance?.available).toBe(40);
    expect(asked).toEqual(['redis', 'freshness', 'postgres']);
  });

  it('given a member Redis knows, when asked, then Redis answers alone', async () => {
    const { handler, asked } = handlerWith({ redisBalance: { available: 25, sequence: 3 }, postgresBalance: null, redisCaughtUp: true });
    expect((await handler.execute(new GetBalanceQuery('m2')))?.available).toBe(25);
    expect(asked).toEqual(['redis']);
  });
});
