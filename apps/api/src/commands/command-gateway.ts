import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { AppConfig, Logger } from '@loyalty/config';
import type { MemberCommand } from '@loyalty/domain';
import type { CommandMessage, CommandOutcome, TopicNames } from '@loyalty/kafka';
import { commandStage } from '../health/metrics';
import { KafkaPublisher } from '../infrastructure/infrastructure.module';
import { CONFIG, KAFKA, LOGGER, TOPICS } from '../infrastructure/tokens';

export class CommandTimeoutError extends Error {
  constructor(readonly commandId: string) {
    super(`no outcome yet for command ${commandId}`);
  }
}

const RECENT_OUTCOMES = 50_000;

/**
 * Sends commands to loyalty.commands and waits (bounded) for their outcome on
 * loyalty.command-results. Every API instance reads all results with a group of its own,
 * from the moment it starts, and keeps recent outcomes so a caller that timed out can
 * ask again (GET /v1/commands/{id}) instead of sending the command twice.
 */
@Injectable()
export class CommandGateway implements OnModuleInit, OnApplicationShutdown {
  private consumer?: Consumer;
  private readonly waiting = new Map<string, Array<(o: CommandOutcome) => void>>();
  private readonly recent = new Map<string, CommandOutcome>();
  private ready?: Promise<void>;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly publisher: KafkaPublisher,
  ) {}

  onModuleInit(): void {
    // Started in the background: a broker that is down must not stop the API from serving reads.
    this.ready = this.startConsumer().catch((err) => {
      this.ready = undefined;
      this.logger.warn('command results consumer not started; commands will be refused until it is', { error: (err as Error).message });
    });
  }

  private async startConsumer(): Promise<void> {
    // The broker answers a fetch as soon as an outcome is committed; the wait only bounds
    // how often an idle consumer asks again (every 20 ms cost the API a fetch per 20 ms).
    const consumer = this.kafka.consumer({ groupId: `${this.config.topics.prefix}api-results-${randomUUID()}`, maxWaitTimeInMs: 250 });
    this.consumer = consumer;
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topic: this.topics.commandResults, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          // Nobody waits over HTTP for the outcomes of upstream purchases: skip them unparsed.
          if (!m.value || m.headers?.origin?.toString() === 'ingest') continue;
          let outcome: CommandOutcome;
          try {
            outcome = JSON.parse(m.value.toString('utf8')) as CommandOutcome;
          } catch {
            continue;
          }
          this.remember(outcome);
        }
      },
    });
    await joined;
  }

  private remember(outcome: CommandOutcome): void {
    // A duplicate outcome never replaces the first answer of a command.
    if (!this.recent.has(outcome.commandId)) {
      this.recent.set(outcome.commandId, outcome);
      if (this.recent.size > RECENT_OUTCOMES) this.recent.delete(this.recent.keys().next().value as string);
    }
    const waiters = this.waiting.get(outcome.commandId);
    if (waiters) {
      this.waiting.delete(outcome.commandId);
      for (const w of waiters) w(this.recent.get(outcome.commandId)!);
    }
  }

  outcomeOf(commandId: string): CommandOutcome | undefined {
    return this.recent.get(commandId);
  }

  /** Sends the command (keyed by memberId) and waits for its outcome; throws CommandTimeoutError after the bound. */
  async execute(commandId: string, type: MemberCommand['type'], data: MemberCommand['data'], source: CommandMessage['origin']['source'] = 'api'): Promise<CommandOutcome> {
    if (!this.ready) this.onModuleInit();
    await this.ready;
    if (!this.consumer) throw new Error('the command results consumer is not running');
    const known = this.recent.get(commandId);
    if (known) return known;
    const outcome = new Promise<CommandOutcome>((resolve) => {
      const list = this.waiting.get(commandId) ?? [];
      list.push(resolve);
      this.waiting.set(commandId, list);
    });
    const wire: CommandMessage = { commandId, correlationId: commandId, type, data, origin: { source } };
    const started = performance.now();
    await this.publisher.send(this.topics.commands, { key: data.memberId, value: JSON.stringify(wire) });
    const sent = performance.now();
    commandStage.send.observe((sent - started) / 1000);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CommandTimeoutError(commandId)), this.config.http.commandTimeoutMs);
    });
    try {
      const answer = await Promise.race([outcome, timeout]);
      commandStage.outcome.observe((performance.now() - sent) / 1000);
      return answer;
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
