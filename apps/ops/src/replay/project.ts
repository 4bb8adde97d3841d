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
  let applied = 0;
  const concurrency = o.concurrency ?? 3;
  const applyChunk = async (partition: number, all: PartitionEvent[], endOffset: string) => {
    const events: PartitionEvent[] = o.untilMs === undefined ? all : all.filter((e) => Date.parse(e.envelope.recordedAt) <= o.untilMs!);
    const work: Promise<unknown>[] = [];
    if (targets.pg && events.length > 0) {
      const pg = targets.pg;
      work.push(
        (async () => {
          const client = await pg.pool.connect();
          try {
            await applyPostgresBatch(client, { projection: pg.projection, topic, partition, events, endOffset }, { schema: pg.schema, synchronousCommit: false });
          } finally {
            client.release();
          }
        })(),
      );
    }
    if (targets.redis && events.length > 0) {
      const r = targets.redis;
      const fromBeginning = !redisStarted.has(partition);
      work.push(
        applyRedisBatch(r.redis, { prefix: r.prefix, partition, events, fromBeginning, endOffset }).then((x) => {
          if (x.status === 'reset-needed') throw new Error(`Redis shadow ${r.prefix} lost its data during the replay (flushed?): run the replay again`);
          redisStarted.add(partition);
        }),
      );
    }
    await Promise.all(work);
    applied += all.length;
    o.onApplied?.(all.length);
  };
  const res = await readEvents({
    kafka: o.kafka,
    topic,
    from,
    to,
    partitionsConcurrently: concurrency,
    groupPrefix: 'loyalty-ops-replay',
    onBatch: async (partition, fetched, fetchedEnd) => {
      const size = o.batchEvents && o.batchEvents > 0 ? o.batchEvents : fetched.length;
      for (let i = 0; i < fetched.length; i += size) {
        const all = fetched.slice(i, i + size);
        const endOffset = i + size >= fetched.length ? fetchedEnd : all[all.length - 1].offset;
        await applyChunk(partition, all, endOffset);
        if (o.throttleMs) await new Promise((r) => setTimeout(r, o.throttleMs));
      }
    },
  });
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
