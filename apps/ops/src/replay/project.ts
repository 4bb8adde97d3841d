// Projects loyalty.events into shadow stores with THE projection definitions of the live
// projectors (applyPostgresBatch / applyRedisBatch); the replay differs only in where it
// reads from (each shadow's own offsets) and where it writes (a shadow schema / prefix),
// and in its bulk settings: whole fetched batches (thousands of events), several
// partitions at once, synchronous_commit off (the offsets travel with the rows, so a
// crash loses both together and the batch is simply applied again).
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import {
  applyPostgresBatch,
  applyRedisBatch,
  getRedisOffsets,
  offsetsOf,
  raisePostgresOffset,
  raiseRedisOffset,
  readEvents,
  topicBounds,
  type PartitionEvent,
} from '@loyalty/read-models';

export interface PgTarget {
  pool: Pool;
  schema: string;
  projection: string;
}

export interface RedisTarget {
  redis: Redis;
  prefix: string;
}

export interface Targets {
  pg?: PgTarget;
  redis?: RedisTarget;
}

export interface ProjectOptions {
  kafka: Kafka;
  topic: string;
  targets: Targets;
  /** End offsets (exclusive); default: the heads when the pass starts. */
  to?: Map<number, bigint>;
  /** Only partitions listed here. */
  partitions?: number[];
  /** Only events recorded at or before this instant (point in time). */
  untilMs?: number;
  /** Pause after each batch (spares the live databases; tests use it to interrupt a replay). */
  throttleMs?: number;
  concurrency?: number;
  /** Apply at most this many events per transaction / script call (default: the whole fetched batch). */
  batchEvents?: number;
  onApplied?: (n: number) => void;
  /** Called once the pass knows how many records it has to read. */
  onPlan?: (records: number) => void;
}

/** Next offset per partition of each target, and the lowest of them (where reading starts). */
export async function targetOffsets(t: Targets, topic: string): Promise<{ pg?: Map<number, bigint>; redis?: Map<number, bigint> }> {
  const out: { pg?: Map<number, bigint>; redis?: Map<number, bigint> } = {};
  if (t.pg) out.pg = await offsetsOf(t.pg.pool, t.pg.schema, t.pg.projection, topic);
  if (t.redis) {
    const r = await getRedisOffsets(t.redis.redis, { prefix: t.redis.prefix });
    out.redis = new Map(r.offsets.map((o) => [o.partition, BigInt(o.nextOffset)]));
  }
  return out;
}

/** Events between the targets' offsets and `to` (default: the current heads). Returns how many were applied. */
export async function projectPass(o: ProjectOptions): Promise<{ applied: number; remaining: number }> {
  const { targets, topic } = o;
  const offsets = await targetOffsets(targets, topic);
  const { high } = await topicBounds(o.kafka, topic);
  const to = o.to ?? high;
  const from = new Map<number, bigint>();
  let remaining = 0;
  for (const p of high.keys()) {
    if (o.partitions && !o.partitions.includes(p)) continue;
    const starts = [offsets.pg?.get(p) ?? (targets.pg ? 0n : undefined), offsets.redis?.get(p) ?? (targets.redis ? 0n : undefined)].filter((x): x is bigint => x !== undefined);
    const start = starts.reduce((a, b) => (b < a ? b : a));
    from.set(p, start);
    const end = to.get(p) ?? 0n;
    if (end > start) remaining += Number(end - start);
  }
  o.onPlan?.(remaining);
  const redisStarted = new Set<number>([...(offsets.redis?.keys() ?? [])]);
  const concurrency = o.concurrency ?? 3;
  const cap = o.batchEvents && o.batchEvents > 0 ? o.batchEvents : 0;

  // Reading and writing are pipelined: onBatch only hands the decoded events to one
  // queue per target and returns, so kafkajs fetches the next batches while the stores
  // write. Each target drains its queues at its own pace, one call at a time per
  // partition (offset order), `concurrency` partitions at once, merging what queued up
  // across fetches into one call (bigger batches: fewer upserted rows per event). The
  // queues are bounded (onBatch waits), so memory stays bounded too.
  const sinks: Sink[] = [];
  if (targets.pg) {
    const pg = targets.pg;
    sinks.push(
      new Sink('postgres', cap || PG_MERGE, concurrency, async (partition, events, endOffset) => {
        const client = await pg.pool.connect();
        try {
          await applyPostgresBatch(client, { projection: pg.projection, topic, partition, events, endOffset }, { schema: pg.schema, synchronousCommit: false });
        } finally {
          client.release();
        }
      }),
    );
  }
  if (targets.redis) {
    const r = targets.redis;
    sinks.push(
      new Sink('redis', cap || REDIS_MERGE, Math.min(concurrency, 2), async (partition, events, endOffset) => {
        const fromBeginning = !redisStarted.has(partition);
        const x = await applyRedisBatch(r.redis, { prefix: r.prefix, partition, events, fromBeginning, endOffset });
        if (x.status === 'reset-needed') throw new Error(`Redis shadow ${r.prefix} lost its data during the replay (flushed?): run the replay again`);
        redisStarted.add(partition);
      }),
    );
  }
  const maxQueued = o.throttleMs ? Math.max(4 * cap, 2000) : MAX_QUEUED;
  let reported = 0;
  const progress = () => {
    const done = sinks.length === 0 ? 0 : Math.min(...sinks.map((k) => k.done));
    if (done > reported) {
      o.onApplied?.(done - reported);
      reported = done;
    }
  };
  for (const k of sinks) {
    k.throttleMs = o.throttleMs ?? 0;
    k.onDone = progress;
  }
  const res = await readEvents({
    kafka: o.kafka,
    topic,
    from,
    to,
    partitionsConcurrently: concurrency,
    groupPrefix: 'loyalty-ops-replay',
    onBatch: async (partition, fetched, fetchedEnd) => {
      const events: PartitionEvent[] = o.untilMs === undefined ? fetched : fetched.filter((e) => Date.parse(e.envelope.recordedAt) <= o.untilMs!);
      for (const k of sinks) k.push(partition, events, fetched.length, fetchedEnd);
      for (const k of sinks) await k.below(maxQueued);
    },
  });
  await Promise.all(sinks.map((k) => k.drain()));
  const applied = reported;
  // Everything below `reached` was handed over: what is left between the stored offsets
  // and `reached` is transaction markers (or events filtered out by --until). Move past it.
  for (const [p, at] of res.reached) {
    if (targets.pg && (offsets.pg?.get(p) ?? 0n) < at) {
      await raisePostgresOffset(targets.pg.pool, { schema: targets.pg.schema, projection: targets.pg.projection, topic, partition: p, offset: at.toString() });
    }
    if (targets.redis && (offsets.redis?.get(p) ?? 0n) < at) {
      await raiseRedisOffset(targets.redis.redis, targets.redis.prefix, p, at.toString());
    }
  }
  return { applied, remaining: Math.max(0, remaining - applied) };
}

/** Events one Postgres transaction takes at most when merging fetches (members and months collapse: bigger is cheaper per event). */
const PG_MERGE = 50_000;
/** Events one Redis script takes at most: the script blocks the server while it runs (about 100 ms at this size). */
const REDIS_MERGE = 15_000;
/** Events decoded and waiting for a target, at most (about 1 KB each in memory). */
const MAX_QUEUED = 200_000;

interface Queued {
  events: PartitionEvent[];
  /** Records read, before any --until filter (progress counts them). */
  count: number;
  endOffset: string;
}

/** One target's queues: per partition, applied in offset order, merged up to `merge` events per call. */
class Sink {
  private readonly queues = new Map<number, Queued[]>();
  private readonly busy = new Set<number>();
  private queued = 0;
  private running = 0;
  private failure: unknown;
  private waiters: (() => void)[] = [];
  done = 0;
  throttleMs = 0;
  onDone: () => void = () => undefined;

  constructor(
    readonly name: string,
    private readonly merge: number,
    private readonly concurrency: number,
    private readonly apply: (partition: number, events: PartitionEvent[], endOffset: string) => Promise<void>,
  ) {}

  push(partition: number, events: PartitionEvent[], count: number, endOffset: string): void {
    if (this.failure) throw this.failure;
    let q = this.queues.get(partition);
    if (!q) this.queues.set(partition, (q = []));
    // Split a fetched batch bigger than a call may take (--batch-events).
    if (events.length > this.merge) {
      for (let i = 0; i < events.length; i += this.merge) {
        const part = events.slice(i, i + this.merge);
        const lastPart = i + this.merge >= events.length;
        q.push({ events: part, count: lastPart ? count - i : part.length, endOffset: lastPart ? endOffset : part[part.length - 1].offset });
      }
    } else q.push({ events, count, endOffset });
    this.queued += count;
    this.schedule();
  }

  /** Resolves once fewer than `limit` events wait (rejects if a write failed). */
  async below(limit: number): Promise<void> {
    while (this.queued >= limit) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (this.failure) throw this.failure;
  }

  /** Resolves once everything pushed is applied. */
  async drain(): Promise<void> {
    while (this.queued > 0 || this.running > 0) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    if (this.failure) throw this.failure;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private schedule(): void {
    if (this.failure) return;
    for (const [partition, q] of this.queues) {
      if (this.running >= this.concurrency) return;
      if (q.length === 0 || this.busy.has(partition)) continue;
      // Take what queued up for this partition, up to `merge` events.
      let n = 0;
      let count = 0;
      let take = 0;
      while (take < q.length && (take === 0 || n + q[take].events.length <= this.merge)) {
        n += q[take].events.length;
        count += q[take].count;
        take++;
      }
      const items = q.splice(0, take);
      const events = items.length === 1 ? items[0].events : ([] as PartitionEvent[]).concat(...items.map((x) => x.events));
      const endOffset = items[items.length - 1].endOffset;
      this.busy.add(partition);
      this.running++;
      void this.run(partition, events, count, endOffset);
    }
  }

  private async run(partition: number, events: PartitionEvent[], count: number, endOffset: string): Promise<void> {
    try {
      if (events.length > 0) await this.apply(partition, events, endOffset);
      if (this.throttleMs) await new Promise((r) => setTimeout(r, this.throttleMs));
      this.queued -= count;
      this.done += count;
      this.onDone();
    } catch (err) {
      this.failure ??= err;
    } finally {
      this.busy.delete(partition);
      this.running--;
      this.schedule();
      this.wake();
    }
  }
}
