// Query functions over the Redis read model (balances, leaderboards, offsets).
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { Balance } from '../postgres/queries';
import { Board, BOARDS, redisKeys } from './redis.projection';

/** The Redis store has no marker: never built, or lost its data. Serve from Postgres meanwhile. */
export class RedisProjectionNotReadyError extends Error {
  constructor(prefix: string) {
    super(`the Redis read model under prefix "${prefix}" is not initialised (never built, or lost its data): rebuild it from offset 0`);
    this.name = 'RedisProjectionNotReadyError';
  }
}

const num = (v: string | undefined | null): number => {
  if (v === undefined || v === null || v === '') return 0;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer outside the safe range: ${v}`);
  return n;
};

/** The balance hash and the store's marker in one command (one round trip, one reply, atomic). */
const READ_BALANCE = `return {redis.call('EXISTS', KEYS[2]), redis.call('HGETALL', KEYS[1])}`;
const READ_BALANCE_SHA = createHash('sha1').update(READ_BALANCE).digest('hex');

async function readBalance(redis: Redis, balanceKey: string, metaKey: string): Promise<[number, string[]]> {
  try {
    return (await redis.evalsha(READ_BALANCE_SHA, 2, balanceKey, metaKey)) as [number, string[]];
  } catch (err) {
    if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
    return (await redis.eval(READ_BALANCE, 2, balanceKey, metaKey)) as [number, string[]];
  }
}

/** Balance of a member, or null if unknown. Throws RedisProjectionNotReadyError if the store lost its data. */
export async function getRedisBalance(redis: Redis, q: { prefix: string; memberId: string }): Promise<Balance | null> {
  const [ready, flat] = await readBalance(redis, redisKeys.balance(q.prefix, q.memberId), redisKeys.meta(q.prefix));
  if (!ready) throw new RedisProjectionNotReadyError(q.prefix);
  if (!flat || flat.length === 0) return null;
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
  return {
    memberId: q.memberId,
    available: num(h.available),
    lifetimeEarned: num(h.lifetimeEarned),
    lifetimeRedeemed: num(h.lifetimeRedeemed),
    lifetimeExpired: num(h.lifetimeExpired),
    lifetimeReversed: num(h.lifetimeReversed),
    lifetimeAdjusted: num(h.lifetimeAdjusted),
    tier: h.tier ?? null,
    sequence: num(h.sequence),
  };
}

export interface RedisOffsets {
  /** False when the marker is missing: the store must not be served. */
  readonly ready: boolean;
  /** Changes every time the store is rebuilt from scratch. */
  readonly epoch: string | null;
  readonly offsets: { readonly partition: number; readonly nextOffset: string }[];
}

export async function getRedisOffsets(redis: Redis, q: { prefix: string }): Promise<RedisOffsets> {
  const [meta, offsets] = await Promise.all([redis.hgetall(redisKeys.meta(q.prefix)), redis.hgetall(redisKeys.offsets(q.prefix))]);
  const ready = !!meta && Object.keys(meta).length > 0;
  return {
    ready,
    epoch: ready ? meta.epoch ?? null : null,
    offsets: Object.entries(offsets ?? {})
      .map(([p, o]) => ({ partition: Number(p), nextOffset: o }))
      .sort((a, b) => a.partition - b.partition),
  };
}

export interface LeaderboardEntry {
  readonly rank: number;
  readonly memberId: string;
  readonly score: number;
}

export function assertBoard(board: string, period: string): asserts board is Board {
  if (!(BOARDS as readonly string[]).includes(board)) throw new RangeError(`unknown leaderboard: ${board} (points or spend)`);
  if (period !== 'all' && !/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) throw new RangeError(`bad period: ${period} (all or YYYY-MM)`);
}

const score = (negated: string) => {
  const n = -Number(negated);
  return n === 0 ? 0 : n; // no -0
};

/** Top N: ranks 1, 2, 3 … highest score first, equal scores by memberId ascending. */
export async function getLeaderboard(redis: Redis, q: { prefix: string; board: string; period?: string; limit?: number; offset?: number }): Promise<LeaderboardEntry[]> {
  const period = q.period ?? 'all';
  assertBoard(q.board, period);
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? 10), 1), 1000);
  const start = Math.max(Math.trunc(q.offset ?? 0), 0);
  const flat = await redis.zrange(redisKeys.board(q.prefix, q.board, period), start, start + limit - 1, 'WITHSCORES');
  const out: LeaderboardEntry[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ rank: start + i / 2 + 1, memberId: flat[i], score: score(flat[i + 1]) });
  return out;
}

/** A member's rank and score on a board, or null when the member has no score there. */
export async function getLeaderboardRank(redis: Redis, q: { prefix: string; board: string; period?: string; memberId: string }): Promise<LeaderboardEntry | null> {
  const period = q.period ?? 'all';
  assertBoard(q.board, period);
  const key = redisKeys.board(q.prefix, q.board, period);
  const res = await redis.multi().zrank(key, q.memberId).zscore(key, q.memberId).exec();
  if (!res) throw new Error('Redis transaction aborted');
  const rank = res[0][1] as number | null;
  const s = res[1][1] as string | null;
  if (rank === null || s === null) return null;
  return { rank: rank + 1, memberId: q.memberId, score: score(s) };
}

/** The months that have leaderboards, newest first. */
export async function getLeaderboardPeriods(redis: Redis, q: { prefix: string }): Promise<string[]> {
  const months = await redis.smembers(redisKeys.periods(q.prefix));
  return months.sort().reverse();
}

/** Deletes every key under a prefix (tests, dropping a retired replay prefix). Never use on a shared prefix by accident. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  if (prefix.length < 3) throw new RangeError('refusing to delete a prefix shorter than 3 characters');
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/([*?[\]\\])/g, '\\$1')}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}
