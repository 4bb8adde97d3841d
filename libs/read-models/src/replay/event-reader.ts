// Reads `loyalty.events` for replay, verify and rebuilds: chosen partitions, each from
// its own start offset (a shadow's stored offset when resuming) to an end offset
// (exclusive; default the high watermark when the call began), upcast on read.
//
// kafkajs has no assign(): a private group (random id, nothing committed) whose
// assigner hands all chosen partitions to its only member, then a seek per partition
// on join (registered synchronously, before the first fetch).
//
// Completion is detected on the consumer's END_BATCH_PROCESS instrumentation event,
// not in eachBatch: a fetch holding only a transaction marker (or aborted records)
// never reaches eachBatch, and a reader waiting for it would hang.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { fixedPartitionsAssigner } from '@loyalty/kafka';
import { upcast, type EventEnvelope } from '@loyalty/domain';
import type { PartitionEvent } from '../projection/events';

export interface ReadEventsOptions {
  kafka: Kafka;
  topic: string;
  /** Start offset (inclusive) per partition; only these partitions are read. Default: every partition from its start. */
  from?: Map<number, bigint>;
  /** End offset (exclusive) per partition. Default: the high watermark when the call began. */
  to?: Map<number, bigint>;
  /**
   * One call per fetched batch of one partition, events in offset order. `endOffset` is
   * the last offset the batch covered (transaction markers included), capped below `to`:
   * pass it to the projections so their stored offset moves past markers.
   * Batches of different partitions may run concurrently (`partitionsConcurrently`).
   */
  onBatch: (partition: number, events: PartitionEvent[], endOffset: string) => Promise<void> | void;
  partitionsConcurrently?: number;
  groupPrefix?: string;
  /** Raw messages instead of upcast envelopes (e.g. for tools that re-publish bytes). */
  decode?: (m: KafkaMessage) => EventEnvelope;
}

export interface ReadEventsResult {
  /** Committed data records handed to onBatch. */
  readonly events: number;
  /** Per partition read: the offset it was read up to (exclusive), markers included. */
  readonly reached: Map<number, bigint>;
  /** The end offsets (exclusive) the read aimed at. */
  readonly ends: Map<number, bigint>;
}

/** A `loyalty.events` record's value as an upcast envelope (replay, verify and the Postgres projector). */
export function decodeEvent(m: { readonly value: Buffer | null }): EventEnvelope {
  return upcast(JSON.parse(m.value!.toString('utf8')));
}

/** Start and end offsets (low, high watermarks) of every partition of a topic. */
export async function topicBounds(kafka: Kafka, topic: string): Promise<{ low: Map<number, bigint>; high: Map<number, bigint> }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return {
      low: new Map(offsets.map((o) => [o.partition, BigInt(o.low)])),
      high: new Map(offsets.map((o) => [o.partition, BigInt(o.high)])),
    };
  } finally {
    await admin.disconnect();
  }
}

export async function readEvents(opts: ReadEventsOptions): Promise<ReadEventsResult> {
  const { kafka, topic } = opts;
  const bounds = await topicBounds(kafka, topic);
  const ends = new Map<number, bigint>();
  const starts = new Map<number, bigint>();
  for (const [p, high] of bounds.high) {
    if (opts.from && !opts.from.has(p)) continue;
    const low = bounds.low.get(p) ?? 0n;
    const want = opts.from?.get(p) ?? 0n;
    const end = opts.to ? opts.to.get(p) ?? high : high;
    const start = want > low ? want : low;
    starts.set(p, start);
    ends.set(p, end < high ? end : high);
  }
  const reached = new Map<number, bigint>();
  const pending = new Set<number>();
  for (const [p, s] of starts) {
    reached.set(p, s);
    if (ends.get(p)! > s) pending.add(p);
  }
  if (pending.size === 0) return { events: 0, reached, ends };

  const decode = opts.decode ?? decodeEvent;
  const consumer = kafka.consumer({
    groupId: `${opts.groupPrefix ?? 'loyalty-ops-read'}-${randomUUID()}`,
    partitionAssigners: [fixedPartitionsAssigner(topic, [...pending])],
    readUncommitted: false,
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxWaitTimeInMs: 200,
    sessionTimeout: 60000,
    rebalanceTimeout: 60000,
    retry: { retries: 5 },
  });
  let count = 0;
  let failure: unknown;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const finish = (p: number) => {
    if (!pending.delete(p)) return;
    consumer.pause([{ topic, partitions: [p] }]);
    if (pending.size === 0) resolveDone();
  };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    for (const p of e.payload.memberAssignment[topic] ?? []) {
      if (pending.has(p)) consumer.seek({ topic, partition: p, offset: reached.get(p)!.toString() });
    }
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { partition, lastOffset } = e.payload as { partition: number; lastOffset: string };
    if (!pending.has(partition) || failure) return;
    const next = BigInt(lastOffset) + 1n;
    const end = ends.get(partition)!;
    const at = next < end ? next : end;
    if (at > reached.get(partition)!) reached.set(partition, at);
    if (at >= end) finish(partition);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: opts.partitionsConcurrently ?? 1,
      eachBatch: async ({ batch, heartbeat }) => {
        const p = batch.partition;
        if (!pending.has(p) || failure) return;
        const end = ends.get(p)!;
        const messages = batch.messages;
        const events: PartitionEvent[] = [];
        let last = -1n;
        if (messages.length > 0) {
          const lo = BigInt(messages[0].offset);
          const hi = BigInt(messages[messages.length - 1].offset);
          if (lo >= reached.get(p)! && hi < end) {
            // The usual case: the whole batch is wanted (one BigInt per batch, not per record).
            for (const m of messages) events.push({ offset: m.offset, envelope: decode(m) });
            last = hi;
          } else {
            for (const m of messages) {
              const o = BigInt(m.offset);
              if (o >= end) break;
              if (o < reached.get(p)!) continue;
              events.push({ offset: m.offset, envelope: decode(m) });
              last = o;
            }
          }
        }
        const batchLast = BigInt(batch.lastOffset());
        const endOffset = batchLast < end ? batchLast : end - 1n;
        try {
          if (events.length > 0) await opts.onBatch(p, events, (endOffset > last ? endOffset : last).toString());
        } catch (err) {
          failure = err;
          resolveDone();
          return;
        }
        count += events.length;
        await heartbeat();
      },
    });
    await done;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  if (failure) throw failure;
  return { events: count, reached, ends };
}
