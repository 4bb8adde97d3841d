import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '@loyalty/config';
import type { RawEvent } from '@loyalty/read-models';
import { GROUP_HEARTBEAT_MS, GROUP_SESSION_TIMEOUT_MS, watchLiveness, withTimeout } from '@loyalty/kafka';

/** A read-model store: where its offsets are, and how a batch of one partition is applied exactly once. */
export interface ProjectionStore {
  readonly name: string;
  /** The next offset to apply per partition, as the store itself records it. */
  loadOffsets(): Promise<Map<number, string>>;
  /** Applies the batch (records as fetched: each store reads their bytes its own way) and moves the stored offset atomically; 'reset' when the store lost its data. */
  applyBatch(partition: number, events: RawEvent[], opts: { fromBeginning: boolean; endOffset: string }): Promise<{ nextOffset: string } | { reset: true }>;
  /**
   * A fetch that held only transaction markers (or aborted records) never reaches
   * applyBatch: move the stored offset past it, but only if nothing lies between.
   */
  skipMarkers(partition: number, firstOffset: string, lastOffset: string): Promise<void>;
  /** True when the store now writes elsewhere (a replay swapped it): offsets must be reloaded. */
  retargeted?(): Promise<boolean>;
}

export interface ProjectorOptions {
  kafka: Kafka;
  logger: Logger;
  topic: string;
  groupId: string;
  store: ProjectionStore;
  /** Partitions applied at once (each batch is one partition; the pool must allow it). */
  partitionsConsumedConcurrently?: number;
  onBatch?: (info: { store: string; partition: number; events: number; ms: number; lag: number }) => void;
}

/**
 * Feeds `loyalty.events` into one store. The store's own offsets are the truth: on every
 * join the consumer seeks to them (Kafka's group offsets are kept only to show lag), so a
 * store that was rebuilt or lost its data is filled again from where it really is.
 */
export class Projector {
  private consumer?: Consumer;
  private offsets = new Map<number, string>();
  /** Partitions sought to offset 0 whose next batch starts the partition. */
  private readonly fromStart = new Set<number>();
  private assigned: number[] = [];
  private unwatch?: () => void;
  private stopping = false;

  constructor(private readonly o: ProjectorOptions) {}

  async start(): Promise<void> {
    const { kafka, topic, groupId, store } = this.o;
    this.offsets = await store.loadOffsets();
    // One fetch serves every assigned partition: with kafkajs's default of 10 MiB per fetch,
    // a backlog filled it with one or two partitions, and the other workers idled. 50 MiB
    // (under the broker's fetch.max.bytes, 55 MiB) carries about six partitions' 8 MiB, and
    // bigger batches fold more events into each key (measured on 583k events: 69-75k vs
    // 64-69k events/s, Redis 3.7-3.9 vs 4.1-4.2 us of CPU per event; 2 MiB per partition
    // was worse, 52-58k).
    const consumer = kafka.consumer({ groupId, readUncommitted: false, maxBytesPerPartition: 8 * 1024 * 1024, maxBytes: 50 * 1024 * 1024, maxWaitTimeInMs: 20, heartbeatInterval: GROUP_HEARTBEAT_MS, sessionTimeout: GROUP_SESSION_TIMEOUT_MS });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      this.o.logger.error('projector consumer crashed', { store: store.name, error: e.payload.error?.message, restartedByKafkajs: e.payload.restart });
      if (!e.payload.restart) void this.replace(consumer, 'crash');
    });
    this.unwatch?.();
    this.unwatch = watchLiveness(consumer, {
      stallMs: 60000,
      onStall: (silentMs) => {
        this.o.logger.error('projector consumer shows no sign of life; replacing it', { store: store.name, silentMs });
        void this.replace(consumer, 'stalled');
      },
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const { partition, batchSize, firstOffset, lastOffset } = e.payload;
      if (consumer !== this.consumer || batchSize > 0 || firstOffset === null) return;
      store.skipMarkers(partition, String(firstOffset), String(lastOffset)).catch((err) => {
        // kafkajs has moved past them already: read them again, or the stage shows lag 1 until the next event.
        const from = String(firstOffset);
        this.o.logger.warn('could not move the offset past transaction markers; reading them again', { store: store.name, partition, from, error: (err as Error).message });
        if (consumer !== this.consumer || !this.assigned.includes(partition)) return;
        try {
          consumer.seek({ topic, partition, offset: from });
        } catch {
          // A consumer kafkajs is restarting refuses seeks; it starts again from the store's offsets anyway.
        }
      });
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      if (consumer !== this.consumer) {
        // A replaced consumer that kafkajs restarted anyway came back as a second member: it
        // would hold partitions it never projects (as in TransactionalProcessor).
        this.o.logger.warn('a replaced projector consumer joined the group again; disconnecting it', { store: store.name });
        void withTimeout('consumer disconnect', 15000, consumer.disconnect()).catch(() => undefined);
        return;
      }
      // Synchronous on purpose: the seeks are registered before the first fetch.
      this.assigned = e.payload.memberAssignment[topic] ?? [];
      this.seekAssigned();
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, isStale, isRunning }) => {
        if (consumer !== this.consumer || !isRunning() || isStale() || batch.isEmpty()) return;
        if (store.retargeted && (await store.retargeted())) {
          this.o.logger.info('store retargeted by a replay: continuing from its offsets', { store: store.name });
          this.offsets = await store.loadOffsets();
          this.seekAssigned();
          return;
        }
        const started = Date.now();
        const events = batch.messages.map(toRaw);
        const result = await store.applyBatch(batch.partition, events, { fromBeginning: this.fromStart.delete(batch.partition), endOffset: batch.lastOffset() });
        if ('reset' in result) {
          this.o.logger.warn('store lost its data: rebuilding the partition from offset 0', { store: store.name, partition: batch.partition });
          this.offsets.set(batch.partition, '0');
          this.fromStart.add(batch.partition);
          consumer.seek({ topic, partition: batch.partition, offset: '0' });
          return;
        }
        this.offsets.set(batch.partition, result.nextOffset);
        this.o.onBatch?.({ store: store.name, partition: batch.partition, events: events.length, ms: Date.now() - started, lag: Number(batch.offsetLag()) });
      },
    });
  }

  private seekAssigned(): void {
    for (const partition of this.assigned) {
      const offset = this.offsets.get(partition) ?? '0';
      if (offset === '0') this.fromStart.add(partition);
      this.consumer!.seek({ topic: this.o.topic, partition, offset });
    }
  }

  /** Drops a crashed or hung consumer and starts a new one from the store's own offsets. */
  private async replace(old: Consumer, why: string): Promise<void> {
    if (this.stopping || this.consumer !== old) return;
    this.consumer = undefined;
    await withTimeout('consumer disconnect', 5000, old.disconnect()).catch(() => undefined);
    for (let delay = 1000; !this.stopping; delay = Math.min(delay * 2, 30000)) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        await this.start();
        this.o.logger.info('projector consumer replaced', { store: this.o.store.name, why });
        return;
      } catch (err) {
        this.o.logger.warn('projector restart failed, retrying', { store: this.o.store.name, error: (err as Error).message });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.unwatch?.();
    await withTimeout('consumer disconnect', 15000, this.consumer?.disconnect() ?? Promise.resolve()).catch(() => undefined);
  }
}

function toRaw(m: KafkaMessage): RawEvent {
  if (m.value === null) throw new TypeError(`loyalty.events record at offset ${m.offset} has no value`);
  return { offset: m.offset, value: m.value };
}
