import type Redis from 'ioredis';
import { applyRedisBatch, getRedisOffsets } from '@loyalty/read-models';
import type { ProjectedEvent, ProjectionStore } from './projector';

/** The Redis read models: balances and leaderboards, offsets moved in the same Lua script. */
export function redisStore(redis: Redis, opts: { prefix: string }): ProjectionStore {
  return {
    name: 'redis',
    async loadOffsets() {
      const offsets = await getRedisOffsets(redis, { prefix: opts.prefix });
      // A store without its marker lost its data: every partition starts again from 0.
      if (!offsets.ready) return new Map();
      return new Map(offsets.offsets.map((o) => [o.partition, o.nextOffset]));
    },
    async applyBatch(partition: number, events: ProjectedEvent[], { fromBeginning, endOffset }: { fromBeginning: boolean; endOffset: string }) {
      const r = await applyRedisBatch(redis, { prefix: opts.prefix, partition, events, fromBeginning, endOffset });
      if (r.status === 'reset-needed') return { reset: true as const };
      return { nextOffset: r.nextOffset };
    },
  };
}
