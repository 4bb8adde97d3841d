import type { Admin } from 'kafkajs';
import type Redis from 'ioredis';
import { pipelineSources, stageLags, topicNames, type StageLag } from '@loyalty/kafka';
import type { Queryable } from '../postgres/sql';
import { readModelOffsets } from './store-offsets';

/** Committed offset, head and lag of every stage, ingest to both read models (`loyalty lag`, GET /v1/projections). */
export async function pipelineLag(
  admin: Admin,
  pg: Queryable,
  redis: Redis,
  q: { topicPrefix: string; schema: string; redisPrefix: string },
): Promise<StageLag[]> {
  const stores = await readModelOffsets(pg, redis, { schema: q.schema, redisPrefix: q.redisPrefix, eventsTopic: topicNames(q.topicPrefix).events });
  return stageLags(admin, pipelineSources(q.topicPrefix, stores));
}
