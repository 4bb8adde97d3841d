// Publishes generated traffic to loyalty.purchases in batches.
//   node dist/scripts/traffic/publish.js --purchases 5000 --members 1000 --seed 42
import { CompressionTypes } from 'kafkajs';
import { createLogger, intOption, loadConfigOrExit } from '@loyalty/config';
import { createKafka, topicNames } from '@loyalty/kafka';
import { generateTraffic, type TrafficMessage } from './generator';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const config = loadConfigOrExit();
  const logger = createLogger({ level: 'warn', format: 'text' });
  const purchases = intOption(args, 'purchases', 5000);
  const members = intOption(args, 'members', 1000);
  const seed = intOption(args, 'seed', 42);
  const producer = createKafka(config.kafka, logger, 'traffic').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const topic = topicNames(config.topics.prefix).purchases;
  const counts: Record<TrafficMessage['kind'], number> = { purchase: 0, refund: 0, duplicate: 0, malformed: 0 };
  let batch: TrafficMessage[] = [];
  const flush = async () => {
    if (!batch.length) return;
    await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: batch.map(({ key, value }) => ({ key, value })) });
    batch = [];
  };
  const started = Date.now();
  for (const m of generateTraffic({ seed, purchases, members })) {
    counts[m.kind]++;
    batch.push(m);
    if (batch.length >= 1000) await flush();
  }
  await flush();
  await producer.disconnect();
  const s = (Date.now() - started) / 1000;
  process.stdout.write(`published ${purchases} purchases for up to ${members} members in ${s.toFixed(1)} s: ${JSON.stringify(counts)}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`publish failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
