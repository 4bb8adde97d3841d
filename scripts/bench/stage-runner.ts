// One stage of the command side alone, for the per-stage bench: BENCH_STAGE=ingest runs only
// the ingest of loyalty.purchases, BENCH_STAGE=ledger only the ledger processor of
// loyalty.commands. Same classes and configuration as dist/apps/ledger/main.js (which runs
// both in one process); nothing of the app is changed. Prints a JSON line with its memory
// and the members it holds every second (`{"bench":"memory",...}`).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { createLogger, loadConfigOrExit, onShutdown, programmeFromFile } from '@loyalty/config';
import { createKafka, topicNames } from '@loyalty/kafka';
import { Ingest } from '../../apps/ledger/src/ingest/ingest';
import { LedgerModule } from '../../apps/ledger/src/ledger.module';
import { LedgerProcessor } from '../../apps/ledger/src/processor/ledger-processor';

async function main(): Promise<void> {
  const stage = process.env.BENCH_STAGE;
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.log.level, format: config.log.format, base: { app: `bench-${stage}` } });
  const kafka = createKafka(config.kafka, logger, `bench-${stage}`);
  const topics = topicNames(config.topics.prefix);
  const groupPrefix = `${config.topics.prefix}`;
  let members = () => 0;
  if (stage === 'ingest') {
    const ingest = new Ingest({ kafka, logger, topics, groupId: `${groupPrefix}ingest`, partitionsConsumedConcurrently: config.ledger.partitionsConsumedConcurrently, fetchWaitMs: config.ledger.ingestFetchWaitMs });
    onShutdown(logger, [() => ingest.stop()]);
    await ingest.start();
  } else if (stage === 'ledger') {
    const app = await NestFactory.createApplicationContext(LedgerModule, { logger: ['error', 'warn'] });
    const processor = new LedgerProcessor({
      kafka,
      logger,
      topics,
      groupId: `${groupPrefix}ledger`,
      commandBus: app.get(CommandBus),
      programme: programmeFromFile(config.programFile),
      partitionsConsumedConcurrently: config.ledger.partitionsConsumedConcurrently,
    });
    onShutdown(logger, [() => processor.stop(), () => app.close()]);
    await processor.start();
    members = () => processor.states.members();
  } else {
    throw new Error(`BENCH_STAGE must be ingest or ledger, not ${stage}`);
  }
  const report = (withGc: boolean, baseline = false) => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const before = process.memoryUsage();
    if (withGc && gc) gc();
    const m = process.memoryUsage();
    process.stdout.write(
      JSON.stringify({ bench: 'memory', gc: withGc, baseline, members: members(), rss: before.rss, rssAfterGc: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }) + '\n',
    );
  };
  // The empty process (Node, Nest, kafkajs, no partition owned yet: a partition is taken
  // when its first batch arrives), for the marginal cost per member.
  report(true, true);
  setInterval(() => report(false), 1000).unref();
  process.on('SIGUSR2', () => report(true));
  logger.info('stage running', { stage });
}

main().catch((err) => {
  process.stderr.write(`stage runner failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
