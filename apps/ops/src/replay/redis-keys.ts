import type Redis from 'ioredis';
import { redisKeys } from '@loyalty/read-models';

/**
 * Deletes the Redis read model stored under `prefix` (meta, offsets, balances, boards) and
 * nothing else: safe for the base prefix, under which shadows and the pointer also live.
 */
export async function deleteStoreKeys(redis: Redis, prefix: string): Promise<number> {
  let n = await redis.del(redisKeys.meta(prefix), redisKeys.offsets(prefix), redisKeys.periods(prefix));
  for (const sub of ['bal:', 'lb:']) {
    const pattern = `${(prefix + sub).replace(/([*?[\]\\])/g, '\\$1')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
      cursor = next;
      if (keys.length) n += await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  return n;
}
