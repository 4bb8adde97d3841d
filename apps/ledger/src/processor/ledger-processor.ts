import type { CommandBus } from '@nestjs/cqrs';
import type { Kafka, KafkaMessage, Message } from 'kafkajs';
import type { Logger } from '@loyalty/config';
import { compact, METADATA_STAMPED_LATER, upstreamCommandId, validatePurchaseMessage, type MemberCommand, type Programme } from '@loyalty/domain';
import {
  deadLetterHeaders,
  eventMessage,
  headerBuffer,
  ORIGINAL_MESSAGE_HEADER,
  parseUpstreamOrigin,
  readPartitionsToEnd,
  TransactionalProcessor,
  UPSTREAM_ORIGIN_HEADER,
  type BatchInfo,
  type TopicNames,
} from '@loyalty/kafka';
import { DecideBatchCommand } from '../decide/decide-batch.command';
import type { DecidedBatch } from '../decide/decide-batch.handler';
import type { CommandMessage, CommandOrigin, CommandOutcome } from '@loyalty/kafka';
import { MemberStateStore } from './member-state-store';
import { followUpCommands, outcomeOf } from './outcomes';

export interface LedgerProcessorOptions {
  kafka: Kafka;
  logger: Logger;
  topics: TopicNames;
  groupId: string;
  commandBus: CommandBus;
  programme: Programme;
  partitionsConsumedConcurrently: number;
  clock?: () => Date;
  onBatchCommitted?: (info: BatchInfo) => void;
}

/**
 * The command side: one writer per partition of `loyalty.commands`. Each batch is decided
 * in order against the members' states and committed as ONE transaction holding the
 * events, the new states, the outcomes (and any dead letters / follow-up commands) and
 * the input offsets. The topics are co-partitioned by memberId, so a partition's events,
 * states and outcomes go to the same partition number of their topics (named, not hashed
 * again; restore relies on it too).
 */
export class LedgerProcessor {
  readonly states = new MemberStateStore();
  private readonly runner: TransactionalProcessor;
  private readonly clock: () => Date;

  constructor(private readonly o: LedgerProcessorOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.runner = new TransactionalProcessor({
      kafka: o.kafka,
      logger: o.logger,
      groupId: o.groupId,
      inputTopic: o.topics.commands,
      transactionalIdPrefix: o.groupId,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
      onPartitionsOwned: (partitions, heartbeat) => this.restore(partitions, heartbeat),
      onPartitionsReleased: (partitions) => partitions.forEach((p) => this.states.drop(p)),
      processBatch: (partition, messages) => this.processBatch(partition, messages),
      onBatchCommitted: o.onBatchCommitted,
    });
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  ownedPartitions(): number[] {
    return this.runner.ownedPartitions();
  }

  /** Restores the partition's member states from the compacted changelog, up to its end. */
  private async restore(partitions: number[], heartbeat: () => Promise<void>): Promise<void> {
    const started = Date.now();
    const maps = new Map(partitions.map((p) => [p, this.states.startLoading(p)]));
    const beat = setInterval(() => void heartbeat().catch(() => undefined), 3000);
    try {
      const { messages } = await readPartitionsToEnd({
        kafka: this.o.kafka,
        topic: this.o.topics.memberState,
        partitions,
        groupPrefix: `${this.o.groupId}-restore`,
        onBatch: (partition, batch) => {
          const map = maps.get(partition)!;
          for (const m of batch) {
            const key = m.key?.toString();
            if (!key) continue;
            if (m.value === null) map.delete(key);
            else map.set(key, m.value.toString());
          }
        },
      });
      this.o.logger.info('member states restored', { partitions, records: messages, ms: Date.now() - started });
    } catch (err) {
      partitions.forEach((p) => this.states.drop(p));
      throw err;
    } finally {
      clearInterval(beat);
    }
  }

  private async processBatch(partition: number, messages: KafkaMessage[]) {
    const { topics } = this.o;
    const now = this.clock().toISOString();
    const events: Message[] = [];
    const results: Message[] = [];
    const deadLetters: Message[] = [];
    const followUps: Message[] = [];

    // Read every command first, then decide them all in one dispatch; the outputs keep the input's order.
    const read = messages.map((message) => ({ message, parsed: readCommand(message) }));
    const commands: MemberCommand[] = [];
    for (const { parsed } of read) {
      if (!parsed.ok) continue;
      const wire = parsed.command;
      commands.push({ type: wire.type, data: wire.data, metadata: { commandId: wire.commandId, correlationId: wire.correlationId, now } } as MemberCommand);
    }
    const { decided, touched }: DecidedBatch = await this.o.commandBus.execute(
      new DecideBatchCommand(commands, (memberId) => this.states.get(partition, memberId), this.o.programme),
    );

    let next = 0;
    for (const { message, parsed } of read) {
      if (!parsed.ok && parsed.deadLetter) {
        // An upstream message the ingest let through and this ledger's rules refuse (an ingest
        // of another version): dead-lettered, as the ingest would have.
        const { origin, reason, message: why } = parsed.deadLetter;
        this.o.logger.warn('upstream message refused by the ledger, dead-lettered', { partition, offset: message.offset, reason });
        deadLetters.push({ key: message.key, value: message.value, headers: deadLetterHeaders('ledger', origin, reason, why) });
        continue;
      }
      if (!parsed.ok) {
        // A command the ledger cannot even read is a bug upstream of it: record the outcome, never retry.
        this.o.logger.warn('unreadable command skipped', { partition, offset: message.offset, reason: parsed.reason });
        results.push({ key: message.key, partition, value: JSON.stringify({ commandId: 'unknown', status: 'rejected', rejection: { code: 'malformed-command', message: parsed.reason } }) });
        continue;
      }
      const wire = parsed.command;
      const { decision, envelopes, after } = decided[next++];
      const memberId = wire.data.memberId;
      for (const e of envelopes) events.push(eventMessage(e, partition));
      for (const f of followUpCommands(envelopes, now)) followUps.push({ key: f.data.memberId, value: JSON.stringify(f) });
      const fromIngest = wire.origin.source === 'ingest';
      // Someone waits for the outcome of an API, scheduler or ops command. An accepted
      // upstream purchase has its events as its record; its rejection is kept with it.
      if (!fromIngest || !decision.ok) {
        const outcome: CommandOutcome = outcomeOf(wire, decision, after);
        results.push({ key: memberId, partition, value: JSON.stringify(outcome), headers: { 'command-id': wire.commandId, origin: wire.origin.source } });
      }
      const original = fromIngest && !decision.ok ? (parsed.upstream ? message.value : (wire.origin.raw ?? headerBuffer(message.headers, ORIGINAL_MESSAGE_HEADER))) : undefined;
      if (!decision.ok && original != null) {
        deadLetters.push({ key: memberId, value: original, headers: deadLetterHeaders('ledger', wire.origin, decision.rejection.code, decision.rejection.message) });
      }
    }

    // Forget what no later decision can use (old ids, spent lots) before the state is stored.
    const committed = [...touched].map(([memberId, s]) => {
      const state = compact(s, this.o.programme, now);
      return { memberId, state, serialized: this.states.serialize(state) };
    });
    return {
      topicMessages: [
        { topic: topics.events, messages: events },
        { topic: topics.memberState, messages: committed.map((c) => ({ key: c.memberId, partition, value: c.serialized })) },
        { topic: topics.commandResults, messages: results },
        { topic: topics.purchasesDlq, messages: deadLetters },
        { topic: topics.commands, messages: followUps },
      ],
      onCommitted: () => this.states.commit(partition, committed),
    };
  }
}

type ReadCommand =
  | { ok: true; command: CommandMessage; /** the value is the upstream message (UPSTREAM_ORIGIN_HEADER) */ upstream: boolean }
  | { ok: false; reason: string; deadLetter?: { origin: CommandOrigin; reason: string; message: string } };

/** A command of either format: JSON (API, scheduler, ledger, older ingests) or an upstream message with its origin. */
function readCommand(message: KafkaMessage): ReadCommand {
  const upstreamOrigin = message.headers?.[UPSTREAM_ORIGIN_HEADER];
  if (upstreamOrigin !== undefined) {
    // A malformed origin is a bug of ours: the purchase still counts (its dead letter, if any, names no source).
    const origin = parseUpstreamOrigin(String(upstreamOrigin)) ?? { source: 'ingest' };
    const verdict = validatePurchaseMessage(message.value ?? Buffer.alloc(0), METADATA_STAMPED_LATER);
    if (!verdict.ok) return { ok: false, reason: verdict.reason, deadLetter: { origin, reason: verdict.reason, message: verdict.message } };
    const { type, data } = verdict.command;
    const id = upstreamCommandId(verdict.command);
    return { ok: true, command: { commandId: id, correlationId: id, type, data, origin }, upstream: true };
  }
  try {
    const c = JSON.parse(message.value?.toString('utf8') ?? '') as CommandMessage;
    if (!c || typeof c.commandId !== 'string' || typeof c.type !== 'string' || typeof c.data?.memberId !== 'string' || !c.origin) {
      return { ok: false, reason: 'missing commandId, type, data.memberId or origin' };
    }
    return { ok: true, command: c, upstream: false };
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
}
