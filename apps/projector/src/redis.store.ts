import type Redis from 'ioredis';
import { activeRedisPrefix, applyRedisBatch, getRedisOffsets } from '@loyalty/read-models';
import type { ProjectedEvent, ProjectionStore } from './projector';

/**
 * The Redis read models: balances and leaderboards, offsets moved in the same Lua script.
 * Writes go to the live prefix named by the replay pointer (`<base>active`, default the base).
 */
export function redisStore(redis: Redis, opts: { basePrefix: string }): ProjectionStore {
  let prefix = opts.basePrefix;
  return {
    name: 'redis',
    async loadOffsets() {
      prefix = await activeRedisPrefix(redis, opts.basePrefix);
      const offsets = await getRedisOffsets(redis, { prefix });
      // A store without its marker lost its data: every partition starts again from 0.
      if (!offsets.ready) return new Map();
      return new Map(offsets.offsets.map((o) => [o.partition, o.nextOffset]));
    },
    async retargeted() {
      return (await activeRedisPrefix(redis, opts.basePrefix)) !== prefix;
    },
    async applyBatch(partition: number, events: ProjectedEvent[], { fromBeginning, endOffset }: { fromBeginning: boolean; endOffset: string }) {
      const r = await applyRedisBatch(redis, { prefix, partition, events, fromBeginning, endOffset });
      if (r.status === 'reset-needed') return { reset: true as const };
      return { nextOffset: r.nextOffset };
    },
  };
}
