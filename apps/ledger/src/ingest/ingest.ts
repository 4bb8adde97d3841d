import type { Kafka, KafkaMessage, Message } from 'kafkajs';
import type { Logger } from '@loyalty/config';
import { METADATA_STAMPED_LATER, validatePurchaseMessage } from '@loyalty/domain';
import { deadLetterHeaders, TransactionalProcessor, UPSTREAM_ORIGIN_HEADER, upstreamOriginHeader, type BatchInfo, type TopicNames } from '@loyalty/kafka';

export interface IngestOptions {
  kafka: Kafka;
  logger: Logger;
  topics: TopicNames;
  groupId: string;
  partitionsConsumedConcurrently: number;
  /** INGEST_FETCH_WAIT_MS */
  fetchWaitMs: number;
  onBatchCommitted?: (info: BatchInfo) => void;
}

/**
 * Upstream purchases → commands keyed by memberId. Invalid input goes to the dead-letter
 * topic with its original bytes and a reason; both leave in one transaction with the
 * consumed offsets, so a crash neither loses nor doubles a purchase.
 */
export class Ingest {
  private readonly runner: TransactionalProcessor;

  constructor(private readonly o: IngestOptions) {
    this.runner = new TransactionalProcessor({
      kafka: o.kafka,
      logger: o.logger,
      groupId: o.groupId,
      inputTopic: o.topics.purchases,
      transactionalIdPrefix: o.groupId,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
      // Nobody waits on the ingest's commands one by one: input gathers for up to fetchWaitMs
      // (or until 1 MiB), so a moderate stream makes fewer, bigger transactions. At 1,300
      // purchases/s, 20 ms and any byte made 220 ingest transactions a second, and the broker's
      // work per transaction starved every stage (publish -> visible p99 5 s); 100 ms: 94.
      // Every later stage batches what one ingest transaction wrote, so this wait sets how
      // often the whole pipeline pays per batch: at 2,000/s, 100 ms meant 104 batches a second
      // per stage and 110 % of a core for the apps and the broker, 250 ms 45 and 77 %.
      fetchWait: o.fetchWaitMs > 0 ? { maxMs: o.fetchWaitMs, minBytes: 1024 * 1024 } : undefined,
      processBatch: async (partition, messages) => this.toCommands(partition, messages),
      onBatchCommitted: o.onBatchCommitted,
    });
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private toCommands(partition: number, messages: KafkaMessage[]) {
    const topic = this.o.topics.purchases;
    const commands: Message[] = [];
    const deadLetters: Message[] = [];
    for (const m of messages) {
      // The ledger names the command (upstreamCommandId) and stamps the time.
      const verdict = validatePurchaseMessage(m.value ?? Buffer.alloc(0), METADATA_STAMPED_LATER);
      if (!verdict.ok) {
        deadLetters.push({ key: m.key, value: m.value, headers: deadLetterHeaders('ingest', { topic, partition, offset: m.offset }, verdict.reason, verdict.message) });
        continue;
      }
      // The command is the upstream message itself, re-keyed by member, with its origin in a
      // header: no JSON written here, and no second copy of the purchase on the commands topic.
      commands.push({ key: verdict.command.data.memberId, value: m.value, headers: { [UPSTREAM_ORIGIN_HEADER]: upstreamOriginHeader(topic, partition, m.offset) } });
    }
    return {
      topicMessages: [
        { topic: this.o.topics.commands, messages: commands },
        { topic: this.o.topics.purchasesDlq, messages: deadLetters },
      ],
    };
  }
}
