import type Redis from 'ioredis';
import { activeRedisPrefix, applyRedisBatch, getRedisOffsets, redisKeys, type RawEvent } from '@loyalty/read-models';
import type { ProjectionStore } from './projector';

/**
 * The Redis read models: balances and leaderboards, offsets moved in the same Lua script.
 * Writes go to the live prefix named by the replay pointer (`<base>active`, default the base).
 */
/** Moves a partition past markers only when its stored offset lies within them (never over data). */
const SKIP_MARKERS = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and tonumber(cur) >= tonumber(ARGV[2]) and tonumber(cur) <= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], ARGV[1], tostring(tonumber(ARGV[3]) + 1))
  return 1
end
return 0
`;

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
    async skipMarkers(partition: number, firstOffset: string, lastOffset: string) {
      await redis.eval(SKIP_MARKERS, 1, redisKeys.offsets(prefix), String(partition), firstOffset, lastOffset);
    },
    async applyBatch(partition: number, records: RawEvent[], { fromBeginning, endOffset }: { fromBeginning: boolean; endOffset: string }) {
      // The records as fetched: the projection reads only the fields it needs from their bytes.
      const r = await applyRedisBatch(redis, { prefix, partition, records, fromBeginning, endOffset });
      if (r.status === 'reset-needed') return { reset: true as const };
      return { nextOffset: r.nextOffset };
    },
  };
}
