import { AssignerProtocol, type Kafka, type KafkaMessage, type PartitionAssigner } from 'kafkajs';
import { randomUUID } from 'node:crypto';

/**
 * kafkajs has no manual `assign()`. To read chosen partitions of a topic from the start
 * (state restore, replay), join a group of our own whose assigner hands exactly
 * those partitions to its only member.
 */
export function fixedPartitionsAssigner(topic: string, partitions: number[]): PartitionAssigner {
  return () => ({
    name: 'FixedPartitions',
    version: 1,
    async assign({ members }) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? { [topic]: partitions } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'FixedPartitions',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}

export interface ReadToEndOptions {
  kafka: Kafka;
  topic: string;
  partitions: number[];
  /** Called for each batch, in offset order per partition. */
  onBatch: (partition: number, messages: KafkaMessage[]) => void | Promise<void>;
  /** Stop at these offsets (exclusive) instead of the current end. */
  until?: Map<number, bigint>;
  groupPrefix?: string;
}

/**
 * Reads committed records of the given partitions from their start to their end as it
 * was when the call began (the high watermark, which counts transaction markers too).
 */
export async function readPartitionsToEnd(opts: ReadToEndOptions): Promise<{ messages: number }> {
  const { kafka, topic } = opts;
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  let starts: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = opts.until ?? new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    starts = new Map(offsets.map((o) => [o.partition, BigInt(o.low)]));
  } finally {
    await admin.disconnect();
  }
  const pending = new Set(opts.partitions.filter((p) => (ends.get(p) ?? 0n) > (starts.get(p) ?? 0n)));
  if (pending.size === 0) return { messages: 0 };

  const consumer = kafka.consumer({
    groupId: `${opts.groupPrefix ?? 'restore'}-${randomUUID()}`,
    partitionAssigners: [fixedPartitionsAssigner(topic, [...pending])],
    readUncommitted: false,
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 16 * 1024 * 1024,
    sessionTimeout: 30000,
    retry: { retries: 5 },
  });
  let count = 0;
  let failure: unknown;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  // A fetch of aborted records or markers only never reaches eachBatch (kafkajs moves past it):
  // when such a tail (an aborted transaction, e.g. after a broker restart) ends the range, the
  // read is done here, or it would wait for ever.
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { partition, batchSize, lastOffset } = e.payload;
    if (batchSize > 0 || !pending.has(partition) || failure) return;
    if (BigInt(lastOffset) + 1n >= ends.get(partition)!) {
      pending.delete(partition);
      if (pending.size === 0) resolveDone();
    }
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        if (!pending.has(batch.partition) || failure) return;
        const end = ends.get(batch.partition)!;
        const within = batch.messages.filter((m) => BigInt(m.offset) < end);
        try {
          if (within.length) await opts.onBatch(batch.partition, within);
        } catch (err) {
          failure = err;
          resolveDone();
          return;
        }
        count += within.length;
        await heartbeat();
        if (BigInt(batch.lastOffset()) + 1n >= end) {
          pending.delete(batch.partition);
          if (pending.size === 0) resolveDone();
        }
      },
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
  if (failure) throw failure;
  return { messages: count };
}
