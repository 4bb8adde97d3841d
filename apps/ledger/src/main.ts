import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { ConfigError, createLogger, createStageMetrics, loadConfigOrExit, lowerPipelinePriority, onShutdown, programmeFromFile, serveMetrics } from '@loyalty/config';
import { createKafka, ensureTopics, topicNames, topicSpecs, withStartupRetry, type BatchInfo } from '@loyalty/kafka';
import { Ingest } from './ingest/ingest';
import { LedgerModule } from './ledger.module';
import { LedgerProcessor } from './processor/ledger-processor';

/** The command side: the ingest of loyalty.purchases and the ledger processor of loyalty.commands. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.log.level, format: config.log.format, base: { app: 'ledger' } });
  const lowered = lowerPipelinePriority(config.pipelineNice);
  if (lowered.threads || lowered.session) logger.info('CPU priority lowered below the API', { nice: config.pipelineNice, ...lowered });
  const programme = programmeFromFile(config.programFile);
  const app = await NestFactory.createApplicationContext(LedgerModule, { logger: ['error', 'warn'] });
  const kafka = createKafka(config.kafka, logger, 'ledger');
  const topics = topicNames(config.topics.prefix);

  const admin = kafka.admin();
  await withStartupRetry('kafka', logger, () => admin.connect());
  const checks = await ensureTopics(admin, topicSpecs(config.topics.prefix, config.topics.partitions, config.topics.replicationFactor));
  const mismatched = checks.filter((c) => c.status === 'mismatch');
  if (mismatched.length) logger.warn('topics differ from their documented settings', { mismatched });
  // A member's commands, events, state and outcomes share one partition number: the ledger
  // writes and restores by it, so topics partitioned differently would misplace members.
  const coPartitioned = [topics.commands, topics.events, topics.memberState, topics.commandResults];
  const { topics: meta } = await admin.fetchTopicMetadata({ topics: coPartitioned });
  await admin.disconnect();
  const counts = coPartitioned.map((t) => `${t} ${meta.find((m) => m.name === t)?.partitions.length ?? 0}`);
  if (new Set(meta.map((m) => m.partitions.length)).size !== 1 || meta.length !== coPartitioned.length) {
    throw new ConfigError([`topics: the ledger's topics must have the same number of partitions (${counts.join(', ')})`]);
  }

  const metrics = createStageMetrics('ledger');
  const observe = (stage: string) => (b: BatchInfo) => {
    metrics.batchSeconds.observe({ stage, partition: String(b.partition) }, b.ms / 1000);
    metrics.messages.inc({ stage }, b.messages);
    metrics.lag.set({ stage, partition: String(b.partition) }, b.lag);
  };
  const groupPrefix = `${config.topics.prefix}`;
  const ingest = new Ingest({
    kafka,
    logger: logger.child({ stage: 'ingest' }),
    topics,
    groupId: `${groupPrefix}ingest`,
    partitionsConsumedConcurrently: config.ledger.partitionsConsumedConcurrently,
    fetchWaitMs: config.ledger.ingestFetchWaitMs,
    onBatchCommitted: observe('ingest'),
  });
  const processor = new LedgerProcessor({
    kafka,
    logger: logger.child({ stage: 'ledger' }),
    topics,
    groupId: `${groupPrefix}ledger`,
    commandBus: app.get(CommandBus),
    programme,
    partitionsConsumedConcurrently: config.ledger.partitionsConsumedConcurrently,
    onBatchCommitted: observe('ledger'),
  });
  metrics.gauge('loyalty_ledger_members_held', 'Member states held in memory', () => processor.states.members());
  metrics.gauge('loyalty_ledger_partitions_owned', 'Partitions of the commands topic owned', () => processor.ownedPartitions().length);
  const metricsServer = await serveMetrics(config.metrics.port, config.http.host, metrics, logger);
  const roles = config.ledger.roles;
  const running = [...(roles.includes('ingest') ? [ingest] : []), ...(roles.includes('ledger') ? [processor] : [])];
  onShutdown(logger, [...running.map((r) => () => r.stop()), () => app.close(), async () => void metricsServer?.close()]);
  await withStartupRetry('kafka consumer group', logger, () => Promise.all(running.map((r) => r.start())));
  logger.info('ledger running', { roles, programme: `${programme.id}@${programme.version}`, topics: topics.commands });
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`ledger failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
