import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import Redis from 'ioredis';
import type { Kafka, Message, Producer } from 'kafkajs';
import { createLogger, loadConfigOrExit, pgPoolConfig, survivePoolErrors, programmeFromFile, redisOptions, type AppConfig, type Logger } from '@loyalty/config';
import { CoalescingSender, createKafka, topicNames, type TopicNames } from '@loyalty/kafka';
import { ActiveRedisPrefix } from './active-redis-prefix';
import { RedisFreshness } from './redis-freshness';
import { CONFIG, KAFKA, LOGGER, PG_POOL, PROGRAMME, REDIS, TOPICS } from './tokens';

/** The one idempotent producer of the API; connected lazily so a broker that is down does not stop start-up. */
@Injectable()
export class KafkaPublisher implements OnApplicationShutdown {
  private producer?: Producer;
  private connecting?: Promise<Producer>;
  private readonly sender = new CoalescingSender(() => this.get(), { onFailure: () => this.replaceProducer() });

  constructor(@Inject(KAFKA) private readonly kafka: Kafka) {}

  /** Sends one message (acks all); concurrent requests share the producer's round trips. */
  send(topic: string, message: Message): Promise<void> {
    return this.sender.send(topic, message);
  }

  async get(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.connecting ??= (async () => {
      const p = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      try {
        await p.connect();
      } catch (err) {
        this.connecting = undefined;
        throw err;
      }
      this.producer = p;
      return p;
    })();
    return this.connecting;
  }

  /** After a failed send: the next one gets a new producer id (see CoalescingSender). */
  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await old?.disconnect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer?.disconnect();
  }
}

@Injectable()
class Connections implements OnApplicationShutdown {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
    this.redis.disconnect();
  }
}

@Global()
@Module({
  providers: [
    { provide: CONFIG, useFactory: (): AppConfig => loadConfigOrExit() },
    {
      provide: LOGGER,
      inject: [CONFIG],
      useFactory: (c: AppConfig): Logger => createLogger({ level: c.log.level, format: c.log.format, base: { app: 'api' } }),
    },
    { provide: KAFKA, inject: [CONFIG, LOGGER], useFactory: (c: AppConfig, l: Logger) => createKafka(c.kafka, l, 'api') },
    { provide: PROGRAMME, inject: [CONFIG], useFactory: (c: AppConfig) => programmeFromFile(c.programFile) },
    { provide: TOPICS, inject: [CONFIG], useFactory: (c: AppConfig): TopicNames => topicNames(c.topics.prefix) },
    { provide: PG_POOL, inject: [CONFIG, LOGGER], useFactory: (c: AppConfig, l: Logger) => survivePoolErrors(new Pool(pgPoolConfig(c)), l) },
    {
      provide: REDIS,
      inject: [CONFIG],
      useFactory: (c: AppConfig) => new Redis(c.redis.url, redisOptions(c)),
    },
    KafkaPublisher,
    ActiveRedisPrefix,
    RedisFreshness,
    Connections,
  ],
  exports: [CONFIG, LOGGER, KAFKA, TOPICS, PROGRAMME, PG_POOL, REDIS, KafkaPublisher, ActiveRedisPrefix, RedisFreshness],
})
export class InfrastructureModule {}
