// Which Redis key prefix is live: an atomic pointer.
//
// `<base>active` (base = REDIS_KEY_PREFIX, e.g. `loyalty:`) names the prefix that
// holds the live Redis read model; absent = the base prefix itself. A replay builds a
// shadow under `<base>r<timestamp>:` and swaps by SETting the pointer in ONE script,
// which first checks that the shadow has applied at least what the live prefix has,
// partition by partition (so a projector that follows the pointer and seeks to the
// shadow's own offsets continues without a gap).
//
// Readers (API) and the live projector resolve the pointer: see activeRedisPrefix().
import type Redis from 'ioredis';
import { redisKeys } from '../redis/redis.projection';

export const redisReplayKeys = {
  /** The pointer: the live prefix (absent = base). */
  active: (base: string) => `${base}active`,
  /** The shadow prefix a running (or interrupted) replay is building. */
  shadow: (base: string) => `${base}replay:shadow`,
  /** The prefix retired by the last swap (kept until the next replay). */
  retired: (base: string) => `${base}replay:retired`,
  /** The replay lock (value: holder, with a TTL refreshed while it runs). */
  lock: (base: string) => `${base}replay:lock`,
};

/** The prefix holding the live Redis read model under a base prefix. */
export async function activeRedisPrefix(redis: Redis, base: string): Promise<string> {
  return (await redis.get(redisReplayKeys.active(base))) ?? base;
}

const SWAP_SCRIPT = `
local cur = redis.call('GET', KEYS[1]) or ARGV[3]
if cur ~= ARGV[1] then return {'moved', cur, ''} end
local live = redis.call('HGETALL', KEYS[2])
for i = 1, #live, 2 do
  local s = redis.call('HGET', KEYS[3], live[i])
  if (not s) or tonumber(s) < tonumber(live[i + 1]) then return {'behind', live[i], live[i + 1]} end
end
if redis.call('EXISTS', KEYS[4]) == 0 then return {'not-ready', '', ''} end
if ARGV[2] == ARGV[3] then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return {'swapped', cur, ''}
`;

export type RedisSwapResult =
  | { status: 'swapped'; retired: string }
  /** Someone else moved the pointer since `expectedActive` was read. */
  | { status: 'moved'; active: string }
  /** The shadow has applied less than the live prefix on this partition: catch up and retry. */
  | { status: 'behind'; partition: number; liveOffset: string }
  | { status: 'not-ready' };

/** Points `<base>active` at `shadow`, atomically, iff the shadow is at or past the live prefix on every partition. */
export async function swapRedisPointer(redis: Redis, o: { base: string; expectedActive: string; shadow: string }): Promise<RedisSwapResult> {
  const [status, a, b] = (await redis.eval(
    SWAP_SCRIPT,
    4,
    redisReplayKeys.active(o.base),
    redisKeys.offsets(o.expectedActive),
    redisKeys.offsets(o.shadow),
    redisKeys.meta(o.shadow),
    o.expectedActive,
    o.shadow,
    o.base,
  )) as [string, string, string];
  switch (status) {
    case 'swapped':
      return { status, retired: a };
    case 'moved':
      return { status, active: a };
    case 'behind':
      return { status, partition: Number(a), liveOffset: b };
    case 'not-ready':
      return { status };
    default:
      throw new Error(`unexpected answer from the Redis swap script: ${status}`);
  }
}

const RAISE_SCRIPT = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if cur < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
return 0
`;

/**
 * Moves a partition's stored offset forward to `offset` when the records between are
 * known to hold no data (transaction markers, aborted records): the reader reached
 * `offset` and handed nothing over.
 */
export async function raiseRedisOffset(redis: Redis, prefix: string, partition: number, offset: string): Promise<boolean> {
  return (await redis.eval(RAISE_SCRIPT, 1, redisKeys.offsets(prefix), String(partition), offset)) === 1;
}

/** Marks a freshly created prefix as initialised from offset 0 (so an empty topic still gives a servable store). */
export async function initRedisPrefix(redis: Redis, prefix: string, epoch: string): Promise<void> {
  await redis.hsetnx(redisKeys.meta(prefix), 'epoch', epoch);
  await redis.hsetnx(redisKeys.meta(prefix), 'createdAt', new Date().toISOString());
}
