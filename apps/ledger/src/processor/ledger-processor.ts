import type { CommandBus } from '@nestjs/cqrs';
import type { Kafka, KafkaMessage, Message } from 'kafkajs';
import type { Logger } from '@loyalty/config';
import {
  compact,
  envelopeMetaFor,
  evolveAll,
  toEnvelopes,
  type Decision,
  type MemberCommand,
  type MemberState,
  type Programme,
} from '@loyalty/domain';
import { eventMessage, headerBuffer, ORIGINAL_MESSAGE_HEADER, readPartitionsToEnd, TransactionalProcessor, type BatchInfo, type TopicNames } from '@loyalty/kafka';
import { DecideMemberCommand } from '../decide/decide-member.command';
import type { CommandMessage, CommandOutcome } from '@loyalty/kafka';
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
    const touched = new Map<string, MemberState>();
    const events: Message[] = [];
    const results: Message[] = [];
    const deadLetters: Message[] = [];
    const followUps: Message[] = [];

    for (const message of messages) {
      const parsed = parseCommand(message);
      if (!parsed.ok) {
        // A command the ledger cannot even read is a bug upstream of it: record the outcome, never retry.
        this.o.logger.warn('unreadable command skipped', { partition, offset: message.offset, reason: parsed.reason });
        results.push({ key: message.key, partition, value: JSON.stringify({ commandId: 'unknown', status: 'rejected', rejection: { code: 'malformed-command', message: parsed.reason } }) });
        continue;
      }
      const wire = parsed.command;
      const memberId = wire.data.memberId;
      const command = { type: wire.type, data: wire.data, metadata: { commandId: wire.commandId, correlationId: wire.correlationId, now } } as MemberCommand;
      const state = touched.get(memberId) ?? this.states.get(partition, memberId);
      const decision: Decision = await this.o.commandBus.execute(new DecideMemberCommand(command, state, this.o.programme));

      let after = state;
      if (decision.ok && decision.events.length > 0) {
        const envelopes = toEnvelopes(memberId, state.sequence + 1, decision.events, envelopeMetaFor(command));
        after = evolveAll(state, envelopes);
        for (const e of envelopes) events.push(eventMessage(e, partition));
        touched.set(memberId, after);
        for (const f of followUpCommands(envelopes, now)) followUps.push({ key: f.data.memberId, value: JSON.stringify(f) });
      }
      const fromIngest = wire.origin.source === 'ingest';
      // Someone waits for the outcome of an API, scheduler or ops command. An accepted
      // upstream purchase has its events as its record; its rejection is kept with it.
      if (!fromIngest || !decision.ok) {
        const outcome: CommandOutcome = outcomeOf(wire, decision, after);
        results.push({ key: memberId, partition, value: JSON.stringify(outcome), headers: { 'command-id': wire.commandId, origin: wire.origin.source } });
      }
      const original = fromIngest && !decision.ok ? (wire.origin.raw ?? headerBuffer(message.headers, ORIGINAL_MESSAGE_HEADER)) : undefined;
      if (!decision.ok && original !== undefined) {
        deadLetters.push({
          key: memberId,
          value: original,
          headers: {
            reason: decision.rejection.code,
            'reason-message': decision.rejection.message,
            'source-topic': wire.origin.topic ?? '',
            'source-partition': String(wire.origin.partition ?? ''),
            'source-offset': wire.origin.offset ?? '',
            'rejected-by': 'ledger',
          },
        });
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

function parseCommand(message: KafkaMessage): { ok: true; command: CommandMessage } | { ok: false; reason: string } {
  try {
    const c = JSON.parse(message.value?.toString('utf8') ?? '') as CommandMessage;
    if (!c || typeof c.commandId !== 'string' || typeof c.type !== 'string' || typeof c.data?.memberId !== 'string' || !c.origin) {
      return { ok: false, reason: 'missing commandId, type, data.memberId or origin' };
    }
    return { ok: true, command: c };
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
}
