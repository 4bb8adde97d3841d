// The Redis read model: ONE projection definition, used unchanged by the live
// projector and by replay (which only passes another key prefix).
//
// Key layout under a prefix P (e.g. `loyalty:`):
//   P meta                 hash  epoch, createdAt: present <=> the store was initialised
//                                from offset 0. Missing = never built or LOST (flush,
//                                restart without persistence): do not serve it.
//   P offsets              hash  partition -> next offset to apply (moved by the script)
//   P bal:{memberId}       hash  available, lifetimeEarned, lifetimeRedeemed, lifetimeExpired,
//                                lifetimeReversed, lifetimeAdjusted, tier, sequence
//   P lb:{board}:{period}  zset  board points|spend, period all|YYYY-MM; member = memberId,
//                                score = NEGATED board score (see below)
//   P lb:periods           set   the YYYY-MM periods that have boards
//
// Leaderboard ties: the contract ranks equal scores by memberId ASCENDING. A ZSET
// orders equal scores by member bytes ascending in ZRANGE, but ZREVRANGE (the
// natural "highest first") reverses that tie order too. So the score stored is
// -score and reads use ZRANGE / ZRANK: highest score first, ties memberId ascending
// (byte order), rank = ZRANK + 1. Scores are integers far below 2^53: exact in doubles.
//
// The two signed counters (available, lifetimeAdjusted) are always present once a member
// was touched, the other counters once they are not 0, so the hashes do not depend on
// where batch boundaries fall (the replay merges fetches into big batches).
//
// Exactly once: ONE EVALSHA per batch. The script reads the partition's stored
// offset, refuses overlapping or stale batches (the caller trims and retries),
// applies the pre-aggregated writes and moves the offset, atomically. A missing
// offset while the batch does not start the partition means the store lost its
// data: the script answers 'reset-needed' and writes nothing.
//
// Few commands per member: the batch is folded per member and per board first (each key
// written once per batch), then a member costs one HSET of its sequence (which says
// whether the hash is new), then one HSET of all its counters when it is new, or one
// HINCRBY per counter that moved; each board one ZINCRBY per member that moved.
// (Measured against HMGET + one HSET of all fields and ZMSCORE + one ZADD per board: the
// Lua work to compute and format the new values cost more Redis CPU than it saved.)
//
// Requirements on the Redis server: maxmemory-policy noeviction (an evicted key is a
// silent loss the offsets cannot see), and a standalone server (keys are built inside
// the script from the prefix, which Redis Cluster forbids).
import { createHash, randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { EventEnvelope } from '@loyalty/domain';
import { addPoints, offsetToBigInt, PartitionEvent } from '../projection/events';
import { redisViewOf, redisViewOfRecord, type Board, type RedisEventView } from './redis.view';

export type { Board, RedisEventView } from './redis.view';
export { redisViewOf, redisViewOfRecord } from './redis.view';

export const REDIS_PROJECTION = { name: 'redis', version: 1 } as const;

export const BOARDS: readonly Board[] = ['points', 'spend'];

export const redisKeys = {
  meta: (prefix: string) => `${prefix}meta`,
  offsets: (prefix: string) => `${prefix}offsets`,
  balance: (prefix: string, memberId: string) => `${prefix}bal:${memberId}`,
  board: (prefix: string, board: Board, period: string) => `${prefix}lb:${board}:${period}`,
  periods: (prefix: string) => `${prefix}lb:periods`,
};

export const APPLY_SCRIPT = `
local offsets = KEYS[1]
local meta = KEYS[2]
local prefix = ARGV[1]
local partition = ARGV[2]
local first = tonumber(ARGV[3])
local nextOff = tonumber(ARGV[4])
local storedRaw = redis.call('HGET', offsets, partition)
local hasMeta = redis.call('EXISTS', meta) == 1
if not storedRaw then
  if first ~= 0 and ARGV[5] ~= '1' then
    return {'reset-needed', ''}
  end
else
  local stored = tonumber(storedRaw)
  if nextOff <= stored then return {'duplicate', storedRaw} end
  if first < stored then return {'overlap', storedRaw} end
end
if not hasMeta then
  redis.call('HSET', meta, 'epoch', ARGV[6], 'createdAt', ARGV[7])
end
local call = redis.call
local FIELDS = {'available', 'lifetimeEarned', 'lifetimeRedeemed', 'lifetimeExpired', 'lifetimeReversed', 'lifetimeAdjusted'}
local i = 9
local n = tonumber(ARGV[8])
for _ = 1, n do
  local key = prefix .. 'bal:' .. ARGV[i]
  -- 'sequence' is written with every touch: HSET answering 1 (a new field) means a new member.
  if call('HSET', key, 'sequence', ARGV[i + 8]) == 1 then
    -- A new member: every non-zero counter, and available and lifetimeAdjusted always, in one HSET.
    local a = {'available', ARGV[i + 1]}
    for f = 2, 5 do
      if ARGV[i + f] ~= '0' then a[#a + 1] = FIELDS[f]; a[#a + 1] = ARGV[i + f] end
    end
    a[#a + 1] = 'lifetimeAdjusted'
    a[#a + 1] = ARGV[i + 6]
    call('HSET', key, unpack(a))
  else
    for f = 1, 6 do
      if ARGV[i + f] ~= '0' then call('HINCRBY', key, FIELDS[f], ARGV[i + f]) end
    end
  end
  if ARGV[i + 7] ~= '' then call('HSET', key, 'tier', ARGV[i + 7]) end
  i = i + 9
end
local nb = tonumber(ARGV[i])
i = i + 1
for _ = 1, nb do
  local key = prefix .. 'lb:' .. ARGV[i]
  local period = ARGV[i + 1]
  local cnt = tonumber(ARGV[i + 2])
  i = i + 3
  if period ~= 'all' then call('SADD', prefix .. 'lb:periods', period) end
  for _ = 1, cnt do
    call('ZINCRBY', key, ARGV[i + 1], ARGV[i])
    i = i + 2
  end
end
call('HSET', offsets, partition, ARGV[4])
return {'applied', ARGV[4]}
`;

export const APPLY_SCRIPT_SHA = createHash('sha1').update(APPLY_SCRIPT).digest('hex');

export interface RedisBatch {
  /** Key prefix, e.g. `loyalty:` (live) or `loyalty:replay-20250101:` (shadow). */
  readonly prefix: string;
  readonly partition: number;
  /** Events of this partition in offset order (replay: upcast envelopes). */
  readonly events?: readonly PartitionEvent[];
  /**
   * Or the records as read from `loyalty.events` (the live projector): the projection reads
   * them with `redisViewOfRecord`, which gives what the envelopes would give.
   */
  readonly records?: readonly RawEvent[];
  /**
   * The caller guarantees these events start at the beginning of the partition
   * (its first batch after seeking to offset 0). Needed only when the first
   * readable offset is not 0 (e.g. an aborted transaction at the head). Default:
   * true exactly when the first event's offset is 0.
   */
  readonly fromBeginning?: boolean;
  /**
   * The last offset the consumer fetched, transaction markers included. The stored offset
   * moves past it, so a partition whose head is a commit marker shows lag 0.
   */
  readonly endOffset?: string;
}

/** One record of `loyalty.events`: its offset and value bytes. */
export interface RawEvent {
  readonly offset: string;
  readonly value: Buffer;
}

export type RedisBatchResult =
  | { readonly status: 'applied'; readonly applied: number; readonly skipped: number; readonly nextOffset: string }
  | { readonly status: 'duplicate'; readonly applied: 0; readonly skipped: number; readonly nextOffset: string }
  /** The store lost its data (or was never built): seek this partition to offset 0 and re-read it. Nothing was written. */
  | { readonly status: 'reset-needed'; readonly applied: 0; readonly skipped: number; readonly nextOffset: null };

interface MemberAgg {
  delta: number;
  earned: number;
  redeemed: number;
  expired: number;
  reversed: number;
  adjusted: number;
  tier: string;
  sequence: number;
}

/** The per member and per board aggregates of a batch of envelopes (see `foldRedisViews`). */
export function foldRedisBatch(envelopes: readonly EventEnvelope[]): RedisFold {
  return foldRedisViews(envelopes.map(redisViewOf));
}

export interface RedisFold {
  members: Map<string, MemberAgg>;
  /** `board:period` -> member -> change of score. */
  boards: Map<string, Map<string, number>>;
}

/** The script arguments (after KEYS) for a batch: pre-aggregated per member and per board. */
export function foldRedisViews(views: readonly RedisEventView[]): RedisFold {
  const members = new Map<string, MemberAgg>();
  const boards = new Map<string, Map<string, number>>();
  const bump = (key: string, memberId: string, by: number) => {
    let b = boards.get(key);
    if (!b) boards.set(key, (b = new Map()));
    b.set(memberId, (b.get(memberId) ?? 0) + by);
  };
  for (const v of views) {
    let m = members.get(v.memberId);
    if (!m) members.set(v.memberId, (m = { delta: 0, earned: 0, redeemed: 0, expired: 0, reversed: 0, adjusted: 0, tier: '', sequence: 0 }));
    addPoints(m, v.type, v.points);
    if (v.sequence > m.sequence) m.sequence = v.sequence;
    if (v.tier !== null) m.tier = v.tier;
    if (v.board !== null) {
      bump(v.board === 'points' ? 'points:all' : 'spend:all', v.memberId, v.by);
      bump(`${v.board}:${v.month}`, v.memberId, v.by);
    }
  }
  return { members, boards };
}

function scriptCommand(keys: string[], prefix: string, partition: number, first: string, next: string, fromBeginning: boolean, views: readonly RedisEventView[]): (string | number)[] {
  const { members, boards } = foldRedisViews(views);
  const args: (string | number)[] = [APPLY_SCRIPT_SHA, keys.length, ...keys, prefix, partition, first, next, fromBeginning ? '1' : '0', randomUUID(), new Date().toISOString(), members.size];
  for (const [id, m] of members) {
    args.push(id, m.delta, m.earned, m.redeemed, m.expired, m.reversed, m.adjusted, m.tier, m.sequence);
  }
  let nb = 0;
  const nbAt = args.length;
  args.push(0);
  for (const [suffix, byMember] of boards) {
    let cnt = 0;
    const cntAt = args.length + 2;
    args.push(suffix, suffix.slice(suffix.indexOf(':') + 1), 0);
    for (const [memberId, by] of byMember) {
      if (by === 0) continue;
      args.push(memberId, -by); // negated: see the key layout note
      cnt++;
    }
    if (cnt === 0) {
      args.length = cntAt - 2;
      continue;
    }
    args[cntAt] = cnt;
    nb++;
  }
  args[nbAt] = nb;
  return args;
}

/** EVALSHA with the full argument list `[sha, numkeys, ...keys, ...args]`; loads the script once when Redis lost it. */
async function evalApply(redis: Redis, command: (string | number)[]): Promise<[string, string]> {
  try {
    return (await redis.call('EVALSHA', command)) as [string, string];
  } catch (err) {
    if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
    await redis.script('LOAD', APPLY_SCRIPT);
    return (await redis.call('EVALSHA', command)) as [string, string];
  }
}

/**
 * Applies one batch of ONE partition exactly once (one EVALSHA; a second one only
 * when the batch overlaps the stored offset, after trimming what was applied).
 */
export async function applyRedisBatch(redis: Redis, batch: RedisBatch): Promise<RedisBatchResult> {
  // Every event is read (and refused when unknown) before anything is written.
  let offsets: string[];
  let views: RedisEventView[];
  if (batch.records !== undefined) {
    if (batch.events !== undefined) throw new TypeError('a Redis batch has events or records, not both');
    offsets = batch.records.map((r) => r.offset);
    views = batch.records.map((r) => redisViewOfRecord(r.value));
  } else {
    const events = batch.events ?? [];
    offsets = events.map((e) => e.offset);
    views = events.map((e) => redisViewOf(e.envelope));
  }
  let last: number | bigint = -1;
  for (const offset of offsets) {
    const o = offsetValue(offset);
    if (o <= last) throw new RangeError(`batch offsets must increase: ${offset} after ${last}`);
    last = o;
  }
  const total = offsets.length;
  if (total === 0) return { status: 'duplicate', applied: 0, skipped: 0, nextOffset: (await getStoredOffset(redis, batch)) ?? '0' };
  const keys = [redisKeys.offsets(batch.prefix), redisKeys.meta(batch.prefix)];
  const end = batch.endOffset !== undefined ? offsetValue(batch.endOffset) : last;
  const next = (BigInt(end > last ? end : last) + 1n).toString();
  for (let attempt = 0; attempt < 3; attempt++) {
    const first = offsets[0];
    const fromBeginning = batch.fromBeginning ?? first === '0';
    const [status, offset] = await evalApply(redis, scriptCommand(keys, batch.prefix, batch.partition, first, next, fromBeginning, views));
    switch (status) {
      case 'applied':
        return { status: 'applied', applied: offsets.length, skipped: total - offsets.length, nextOffset: offset };
      case 'duplicate':
        return { status: 'duplicate', applied: 0, skipped: total, nextOffset: offset };
      case 'reset-needed':
        return { status: 'reset-needed', applied: 0, skipped: total, nextOffset: null };
      case 'overlap': {
        const stored = BigInt(offset);
        let from = 0;
        while (from < offsets.length && BigInt(offsets[from]) < stored) from++;
        offsets = offsets.slice(from);
        views = views.slice(from);
        if (offsets.length === 0) return { status: 'duplicate', applied: 0, skipped: total, nextOffset: offset };
        break;
      }
      default:
        throw new Error(`unexpected answer from the Redis projection script: ${status}`);
    }
  }
  throw new Error('Redis projection: the stored offset kept moving under this batch (two projectors on one partition?)');
}

/** A Kafka offset as a number when it is one exactly (the usual case), else as a bigint; both compare with each other. */
function offsetValue(offset: string): number | bigint {
  const n = offset.length;
  if (n === 0 || n > 15) return offsetToBigInt(offset);
  for (let i = 0; i < n; i++) {
    const c = offset.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return offsetToBigInt(offset); // throws: not an offset
  }
  return Number(offset);
}

async function getStoredOffset(redis: Redis, b: { prefix: string; partition: number }): Promise<string | null> {
  return redis.hget(redisKeys.offsets(b.prefix), String(b.partition));
}
