import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer, TopicMessages } from 'kafkajs';
import type { Logger } from '@loyalty/config';
import { GROUP_HEARTBEAT_MS, GROUP_SESSION_TIMEOUT_MS } from './client';
import { watchLiveness, withTimeout } from './liveness';

/** What one input batch of one partition turns into, committed atomically with its input offsets. */
export interface BatchOutput {
  topicMessages: TopicMessages[];
  /** Applied only after the transaction committed (e.g. move in-memory state forward). */
  onCommitted?: () => void;
}

export interface TransactionalProcessorOptions {
  kafka: Kafka;
  logger: Logger;
  groupId: string;
  inputTopic: string;
  /** transactionalId = `${transactionalIdPrefix}-${inputTopic}-${partition}` */
  transactionalIdPrefix: string;
  partitionsConsumedConcurrently?: number;
  /**
   * At most this many input messages per transaction (bounds the size of each output record
   * batch). Default 2000: a 256 KiB fetch of purchases or ingest commands (about 1,000) is
   * then one transaction, and the ledger's outputs for it (about 1.3 MB of events) stay well
   * under the topics' 8 MiB max.message.bytes. Every transaction costs the broker and the
   * app the same few requests and markers whatever its size.
   */
  maxMessagesPerTransaction?: number;
  /** Bytes fetched per partition at a time. Default 256 KiB. */
  maxBytesPerPartition?: number;
  /**
   * How long the broker may hold a fetch for more input, and how much input ends the wait
   * (defaults 20 ms and 1 byte: a batch as soon as there is one). A stage nobody waits on
   * can trade latency for fewer, bigger transactions (see Ingest).
   */
  fetchWait?: { maxMs: number; minBytes: number };
  /** Called once for newly owned partitions, after their producers fenced any zombie. */
  onPartitionsOwned?: (partitions: number[], heartbeat: () => Promise<void>) => Promise<void>;
  /** Called when partitions are lost (revoked or failed): drop what is held for them. */
  onPartitionsReleased?: (partitions: number[]) => void;
  processBatch: (partition: number, messages: KafkaMessage[]) => Promise<BatchOutput>;
  /** A fetch of transaction markers only that reached the head is committed past this much later, unless a batch did. Default 200 ms. */
  markerCommitDelayMs?: number;
  /** A consumer silent (no fetch, batch or heartbeat) this long is replaced. Default 60 s. */
  stallMs?: number;
  /** Observability hook: one call per committed batch. */
  onBatchCommitted?: (info: BatchInfo) => void;
}

/**
 * Consume-transform-produce with exactly-once: one transactional producer per owned
 * input partition (kafkajs has no KIP-447, so fencing rests on the transactionalId),
 * one transaction per batch holding the outputs and the consumed offsets.
 */
export interface BatchInfo {
  partition: number;
  messages: number;
  outputs: number;
  ms: number;
  lastOffset: string;
  /** Messages behind the partition head after this batch. */
  lag: number;
}

/** Past this, a transactional call is treated as failed (kafkajs can hang after a broker restart). */
const TX_TIMEOUT_MS = 30000;

/** Marks a failed batch as retriable, so kafkajs re-fetches and, past its retries, restarts the consumer. */
class BatchFailedError extends Error {
  readonly retriable = true;
  constructor(message: string) {
    super(message);
    this.name = 'BatchFailedError';
  }
}

export class TransactionalProcessor {
  private consumer?: Consumer;
  private readonly producers = new Map<number, Producer>();
  private readonly owned = new Set<number>();
  private ownership = Promise.resolve();
  private stopping = false;
  private unwatch?: () => void;
  /** Per partition: the offset committed next, and the work in progress (batches and marker commits run one at a time). */
  private readonly committedNext = new Map<number, bigint>();
  private readonly partitionWork = new Map<number, Promise<unknown>>();
  /** The partitions the group gave this consumer at its last join. */
  private assigned = new Set<number>();
  private admin?: Admin;

  constructor(private readonly o: TransactionalProcessorOptions) {}

  async start(): Promise<void> {
    const { kafka, groupId, inputTopic } = this.o;
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: false,
      sessionTimeout: GROUP_SESSION_TIMEOUT_MS,
      rebalanceTimeout: 60000,
      heartbeatInterval: GROUP_HEARTBEAT_MS,
      // kafkajs fetches the next batches only when every batch of the last fetch is done, so
      // one partition's backlog delays all the others (an API command among them). A fetch
      // of about one transaction's worth per partition bounds that wait.
      maxBytesPerPartition: this.o.maxBytesPerPartition ?? 256 * 1024,
      maxWaitTimeInMs: this.o.fetchWait?.maxMs ?? 20,
      minBytes: this.o.fetchWait?.minBytes ?? 1,
      retry: { retries: 10, initialRetryTime: 100 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      if (consumer !== this.consumer) {
        // A replaced consumer that kafkajs restarted anyway (its own retry after a crash) came
        // back as a second member: it would hold partitions it never processes. Seen once after
        // a slow broker restart (the stall watch replaced the consumers while they crashed).
        this.o.logger.warn('a replaced consumer joined the group again; disconnecting it', { groupId });
        void withTimeout('consumer disconnect', 15000, consumer.disconnect()).catch(() => undefined);
        return;
      }
      const assigned = new Set<number>(e.payload.memberAssignment[inputTopic] ?? []);
      this.assigned = assigned;
      const lost = [...this.owned].filter((p) => !assigned.has(p));
      if (lost.length) this.ownership = this.ownership.then(() => this.release(lost, 'revoked'));
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      // A fetch of markers or aborted records only never reaches eachBatch, and kafkajs moves
      // its position past it anyway: commit past it too, or a caught-up stage would show lag 1.
      const { partition, batchSize, firstOffset, lastOffset, offsetLag } = e.payload;
      if (consumer !== this.consumer || batchSize > 0 || firstOffset === null) return;
      this.commitPastFilteredSoon(consumer, partition, BigInt(firstOffset), String(lastOffset), offsetLag === '0');
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.o.logger.error('consumer crashed; it restarts and resumes from committed offsets', {
        groupId,
        error: e.payload.error?.message,
        restartedByKafkajs: e.payload.restart,
      });
      const all = [...this.owned];
      this.ownership = this.ownership.then(() => this.release(all, 'crash'));
      // kafkajs gives up on errors it deems non-retriable: start a fresh consumer ourselves.
      if (!e.payload.restart) void this.replace(consumer, 'crash');
    });
    this.unwatch?.();
    this.unwatch = watchLiveness(consumer, {
      stallMs: this.o.stallMs ?? 60000,
      onStall: (silentMs) => {
        this.o.logger.error('consumer shows no sign of life; replacing it', { groupId, silentMs });
        void this.replace(consumer, 'stalled');
      },
    });
    await consumer.connect();
    await consumer.subscribe({ topic: inputTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => (consumer === this.consumer ? this.onBatch(payload) : Promise.resolve()),
    });
  }

  /**
   * Drops a crashed or hung consumer and starts a new one. What the old one may still be
   * doing is harmless: its producers are closed, and a new owner's producer fences them.
   */
  private async replace(old: Consumer, why: string): Promise<void> {
    if (this.stopping || this.consumer !== old) return;
    this.consumer = undefined;
    await this.release([...this.owned], why);
    await withTimeout('consumer disconnect', 5000, old.disconnect()).catch(() => undefined);
    for (let delay = 1000; !this.stopping; delay = Math.min(delay * 2, 30000)) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        await this.start();
        this.o.logger.info('consumer replaced', { groupId: this.o.groupId, why });
        return;
      } catch (err) {
        this.o.logger.warn('consumer restart failed, retrying', { groupId: this.o.groupId, error: (err as Error).message, retryInMs: delay * 2 });
      }
    }
  }

  /** Runs `work` after whatever this partition is already doing. */
  private exclusive<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const run = (this.partitionWork.get(partition) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.partitionWork.set(partition, run);
    return run;
  }

  private onBatch(payload: EachBatchPayload): Promise<void> {
    return this.exclusive(payload.batch.partition, () => this.processFetched(payload));
  }

  /**
   * Fetches the partition again from `offset`. A consumer that kafkajs is restarting refuses
   * seeks; it needs none, since a restarted consumer reads from the committed offsets.
   */
  private seekBack(consumer: Consumer, partition: number, offset: string): void {
    if (consumer !== this.consumer || !this.assigned.has(partition) || this.stopping) return;
    try {
      consumer.seek({ topic: this.o.inputTopic, partition, offset });
    } catch (err) {
      this.o.logger.info('no seek: the consumer is restarting and reads from the committed offsets', { partition, error: (err as Error).message });
    }
  }

  private async processFetched({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || this.stopping) return;
    const partition = batch.partition;
    await this.ownership;
    if (!this.owned.has(partition)) await this.own(partition, heartbeat);
    // A new owner's position was read before it fenced the previous writer, which may have
    // committed in between: what the group has committed since is skipped.
    const next = this.committedNext.get(partition);
    const messages = next === undefined ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= next);
    if (next !== undefined && next > BigInt(batch.lastOffset())) {
      resolveOffset(batch.lastOffset());
      return;
    }
    const started = Date.now();
    const max = this.o.maxMessagesPerTransaction ?? 2000;
    let outputs = 0;
    // Only markers left past what is committed: commit past them.
    if (messages.length === 0) await this.commitChunk(partition, [], batch.lastOffset());
    for (let i = 0; i < messages.length; i += max) {
      if (!isRunning() || this.stopping) return;
      const chunk = messages.slice(i, i + max);
      const last = i + max >= messages.length;
      // The last chunk commits past any transaction markers that end the fetched batch.
      const lastOffset = last ? batch.lastOffset() : chunk[chunk.length - 1].offset;
      outputs += await this.commitChunk(partition, chunk, lastOffset);
      resolveOffset(lastOffset);
      await heartbeat();
    }
    this.o.onBatchCommitted?.({ partition, messages: messages.length, outputs, ms: Date.now() - started, lastOffset: batch.lastOffset(), lag: Number(batch.offsetLag()) });
  }

  /**
   * Commits past a marker-only fetch later, unless a batch committed past it meanwhile.
   * Under load such fetches are frequent (the input's writers interleave their
   * transactions, so a fetch often stops at a marker while other transactions are still
   * open behind it), and a transaction of offsets alone costs what any transaction costs:
   * three requests, markers and offsets written. The next batch's commit covers the
   * markers anyway. So: soon when the fetch reached the partition's head (nothing may
   * follow, and the stage must show lag 0), and only as a fallback when more is behind it.
   */
  private commitPastFilteredSoon(consumer: Consumer, partition: number, firstOffset: bigint, lastOffset: string, atHead: boolean): void {
    const timer = setTimeout(() => {
      if (consumer !== this.consumer) return;
      const next = this.committedNext.get(partition);
      if (next !== undefined && next > BigInt(lastOffset)) return; // covered by a later batch
      void this.exclusive(partition, () => this.commitPastFiltered(partition, firstOffset, lastOffset)).catch((err) => {
        // Read again from what was committed: the next fetch retries (or processes the gap).
        const from = this.committedNext.get(partition) ?? firstOffset;
        this.o.logger.warn('could not commit past transaction markers; reading them again', { partition, from: String(from), error: (err as Error).message });
        this.seekBack(consumer, partition, String(from));
      });
    }, atHead ? (this.o.markerCommitDelayMs ?? 200) : 5000);
    timer.unref();
  }

  /**
   * Commits past a fetch that held only markers or aborted records. Decided inside the
   * partition's exclusive section, so it sees the offset the batch before it committed.
   */
  private async commitPastFiltered(partition: number, firstOffset: bigint, lastOffset: string): Promise<void> {
    await this.ownership;
    if (this.stopping || !this.assigned.has(partition)) return;
    // A partition can be new to this process and hold only markers (the previous owner's
    // transactions were fenced): own it like any other, so the commit is fenced too.
    if (!this.owned.has(partition)) await this.own(partition, async () => undefined);
    // Unknown right after ownership: kafkajs fetched from the group's committed offset.
    const next = this.committedNext.get(partition) ?? firstOffset;
    if (next > BigInt(lastOffset)) return; // already committed past it
    if (next < firstOffset) throw new Error(`offsets ${next}..${firstOffset - 1n} were fetched but not committed`);
    await this.commitChunk(partition, [], lastOffset);
  }

  /** One transaction: the chunk's outputs and the input offset past it. Returns the number of outputs. */
  private async commitChunk(partition: number, messages: KafkaMessage[], lastOffset: string): Promise<number> {
    const producer = this.producers.get(partition);
    if (!producer) throw new BatchFailedError(`partition ${partition} is no longer owned`);
    const output = await this.o.processBatch(partition, messages);
    const nextOffset = (BigInt(lastOffset) + 1n).toString();
    const tx = await producer.transaction();
    try {
      const outputs = output.topicMessages.filter((t) => t.messages.length > 0);
      if (outputs.length) await withTimeout('transactional send', TX_TIMEOUT_MS, tx.sendBatch({ topicMessages: outputs, acks: -1 }));
      await withTimeout(
        'sendOffsets',
        TX_TIMEOUT_MS,
        tx.sendOffsets({
          consumerGroupId: this.o.groupId,
          topics: [{ topic: this.o.inputTopic, partitions: [{ partition, offset: nextOffset }] }],
        }),
      );
      await withTimeout('commit', TX_TIMEOUT_MS, tx.commit());
    } catch (err) {
      this.o.logger.warn('transaction failed; the batch will be read again from the committed offset', {
        partition,
        error: (err as Error).message,
      });
      await withTimeout('abort', 10000, tx.abort()).catch(() => undefined);
      // A failed or fenced producer cannot be trusted again (kafkajs #1355): rebuild it, and
      // reload the partition's state, since an ambiguous commit may have gone through.
      await this.release([partition], 'failed');
      throw new BatchFailedError(`transaction on partition ${partition} failed: ${(err as Error).message}`);
    }
    output.onCommitted?.();
    this.committedNext.set(partition, BigInt(nextOffset));
    return output.topicMessages.reduce((n, t) => n + t.messages.length, 0);
  }

  /** Fence any zombie writer of this partition first, then let the owner restore its state. */
  private async own(partition: number, heartbeat: () => Promise<void>): Promise<void> {
    const transactionalId = `${this.o.transactionalIdPrefix}-${this.o.inputTopic}-${partition}`;
    const producer = this.o.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60000,
      // A short first retry: back-to-back transactions wait on CONCURRENT_TRANSACTIONS (kafkajs #304)
      // while the coordinator writes the previous markers, usually a few ms. A first retry at
      // 2 ms instead of 20 cut the tail of back-to-back one-message transactions here from
      // 38-56 ms to 8-13 ms; 5 ms wastes fewer requests while the markers are being written.
      retry: { retries: 14, initialRetryTime: 5, maxRetryTime: 2000 },
    });
    let committed: bigint | undefined;
    try {
      await producer.connect();
      // Starting a transaction runs InitProducerId, which bumps the epoch and aborts
      // whatever a previous owner left open; ending it with nothing sent costs no request.
      const tx = await producer.transaction();
      await tx.abort();
      // Only now, with any previous writer fenced, is the group's committed offset final.
      committed = await this.committedOffset(partition);
    } catch (err) {
      // Not owned: the next batch tries again with a new producer; this one must not linger.
      await withTimeout('producer disconnect', 5000, producer.disconnect()).catch(() => undefined);
      throw err;
    }
    if (committed !== undefined) this.committedNext.set(partition, committed);
    this.producers.set(partition, producer);
    this.owned.add(partition);
    try {
      await this.o.onPartitionsOwned?.([partition], heartbeat);
    } catch (err) {
      await this.release([partition], 'failed');
      throw err;
    }
    this.o.logger.info('partition owned', { topic: this.o.inputTopic, partition });
  }

  private async committedOffset(partition: number): Promise<bigint | undefined> {
    if (!this.admin) {
      const admin = this.o.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const [topic] = await this.admin.fetchOffsets({ groupId: this.o.groupId, topics: [this.o.inputTopic] });
    const offset = topic?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || offset === '-1' ? undefined : BigInt(offset);
  }

  private async release(partitions: number[], why: string): Promise<void> {
    for (const p of partitions) {
      if (!this.owned.delete(p)) continue;
      this.committedNext.delete(p);
      const producer = this.producers.get(p);
      this.producers.delete(p);
      await withTimeout('producer disconnect', 5000, producer?.disconnect() ?? Promise.resolve()).catch(() => undefined);
      this.o.logger.info('partition released', { topic: this.o.inputTopic, partition: p, why });
    }
    if (partitions.length) this.o.onPartitionsReleased?.(partitions);
  }

  /** Graceful stop: the running batch finishes (or aborts), then the group is left. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unwatch?.();
    await withTimeout('consumer disconnect', 15000, this.consumer?.disconnect() ?? Promise.resolve()).catch(() => undefined);
    await this.release([...this.owned], 'shutdown');
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  ownedPartitions(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }
}
