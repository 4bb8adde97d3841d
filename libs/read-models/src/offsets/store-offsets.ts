import type Redis from 'ioredis';
import { POSTGRES_PROJECTION } from '../postgres/postgres.projection';
import { getPostgresOffsets } from '../postgres/queries';
import type { Queryable } from '../postgres/sql';
import { getRedisOffsets } from '../redis/queries';

/** The next offset each read-model store will apply, per partition of the events topic. */
export async function readModelOffsets(
  pg: Queryable,
  redis: Redis,
  q: { schema: string; redisPrefix: string; eventsTopic: string },
): Promise<{ postgres: Map<number, string>; redis: Map<number, string> }> {
  const [p, r] = await Promise.all([
    getPostgresOffsets(pg, { schema: q.schema, projection: POSTGRES_PROJECTION.name, topic: q.eventsTopic }),
    getRedisOffsets(redis, { prefix: q.redisPrefix }),
  ]);
  return {
    postgres: new Map(p.map((o) => [o.partition, o.nextOffset])),
    // A store that lost its marker counts as empty: its lag is the whole topic.
    redis: new Map(r.ready ? r.offsets.map((o) => [o.partition, o.nextOffset]) : []),
  };
}
