import 'reflect-metadata';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { createLogger, createStageMetrics, loadConfigOrExit, lowerPipelinePriority, onShutdown, pgPoolConfig, survivePoolErrors, programmeFromFile, redisOptions, serveMetrics } from '@loyalty/config';
import { createKafka, topicNames, withStartupRetry } from '@loyalty/kafka';
import { Projector, type ProjectionStore } from './projector';
import { postgresStore } from './postgres.store';
import { redisStore } from './redis.store';
import { Scheduler } from './scheduler/scheduler';

/** The read side: projectors from loyalty.events into Postgres and Redis (PROJECTOR_STORES picks them). */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.log.level, format: config.log.format, base: { app: 'projector' } });
  const lowered = lowerPipelinePriority(config.pipelineNice);
  if (lowered.threads || lowered.session) logger.info('CPU priority lowered below the API', { nice: config.pipelineNice, ...lowered });
  const kafka = createKafka(config.kafka, logger, 'projector');
  const topic = topicNames(config.topics.prefix).events;
  const closers: Array<() => Promise<void>> = [];
  const metrics = createStageMetrics('projector');
  const stores: ProjectionStore[] = [];

  if (config.projector.stores.includes('postgres')) {
    const pool = survivePoolErrors(new Pool(pgPoolConfig(config, { max: config.projector.partitionsConsumedConcurrently + 1 })), logger);
    await withStartupRetry('postgres', logger, () => pool.query('select 1'));
    stores.push(postgresStore(pool, { topic, schema: config.postgres.schema }));
    closers.push(() => pool.end());
    if (config.projector.schedulerIntervalMs > 0) {
      // Expiry and tier reviews are found in the Postgres read model, so they run beside it.
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      const scheduler = new Scheduler({
        pool,
        producer,
        commandsTopic: topicNames(config.topics.prefix).commands,
        schema: config.postgres.schema,
        scope: config.topics.prefix,
        programme: programmeFromFile(config.programFile),
        logger: logger.child({ component: 'scheduler' }),
      });
      let running = false;
      let connected: Promise<void> | undefined;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        connected ??= producer.connect().catch((err) => {
          connected = undefined;
          throw err;
        });
        connected
          .then(() => scheduler.tick())
          .catch((err) => logger.warn('scheduler tick failed; next tick retries', { error: (err as Error).message }))
          .finally(() => (running = false));
      }, config.projector.schedulerIntervalMs);
      closers.unshift(async () => {
        clearInterval(timer);
        await producer.disconnect().catch(() => undefined);
      });
    }
  }
  if (config.projector.stores.includes('redis')) {
    const redis = new Redis(config.redis.url, redisOptions(config));
    await withStartupRetry('redis', logger, () => redis.connect());
    stores.push(redisStore(redis, { basePrefix: config.redis.keyPrefix }));
    closers.push(async () => void redis.disconnect());
  }

  const projectors = stores.map(
    (store) =>
      new Projector({
        kafka,
        logger: logger.child({ store: store.name }),
        topic,
        groupId: `${config.topics.prefix}projector-${store.name}`,
        store,
        partitionsConsumedConcurrently: config.projector.partitionsConsumedConcurrently,
        onBatch: (b) => {
          metrics.batchSeconds.observe({ stage: b.store, partition: String(b.partition) }, b.ms / 1000);
          metrics.messages.inc({ stage: b.store }, b.events);
          metrics.lag.set({ stage: b.store, partition: String(b.partition) }, b.lag);
        },
      }),
  );
  const metricsServer = await serveMetrics(config.metrics.port, config.http.host, metrics, logger);
  closers.push(async () => void metricsServer?.close());
  onShutdown(logger, [...projectors.map((p) => () => p.stop()), ...closers]);
  await withStartupRetry('kafka', logger, () => Promise.all(projectors.map((p) => p.start())));
  logger.info('projector running', { stores: stores.map((s) => s.name), topic });
}

main().catch((err) => {
  process.stderr.write(`projector failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
