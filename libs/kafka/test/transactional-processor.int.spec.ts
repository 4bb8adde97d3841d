/**
 * The TransactionalProcessor against the real broker: input that ends in transaction
 * markers and aborted records is committed past, so a caught-up stage shows lag 0.
 */
import { randomBytes } from 'node:crypto';
import { Admin, Kafka, KafkaMessage, logLevel } from 'kafkajs';
import { createLogger } from '@loyalty/config';
import { stageLags } from '../src/lag';
import { TransactionalProcessor } from '../src/transactional-processor';
import { eventually } from '../../../test/support/eventually';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const prefix = `txproc-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
const kafka = new Kafka({ clientId: prefix, brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 20, retries: 12 } });
const quiet = createLogger({ level: 'error' });

let admin: Admin;
const processors: TransactionalProcessor[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await Promise.all(processors.map((p) => p.stop()));
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

it('given input whose tail is an aborted transaction, when a new owner starts at it, then it commits past the markers (lag 0)', async () => {
  const topic = `${prefix}.input`;
  const groupId = `${prefix}.group`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });

  // Offsets 0-2 committed (marker at 3), 4-5 aborted (marker at 6), so the head is 7.
  const writer = kafka.producer({ transactionalId: `${prefix}.writer`, idempotent: true, maxInFlightRequests: 1 });
  await writer.connect();
  const committed = await writer.transaction();
  await committed.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
  await committed.commit();
  const aborted = await writer.transaction();
  await aborted.send({ topic, messages: [{ value: 'x' }, { value: 'y' }] });
  await aborted.abort();
  await writer.disconnect();
  // The previous owner got as far as the aborted records: a new owner's first fetch holds nothing to process.
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '4' }] });

  const seen: string[] = [];
  const processor = new TransactionalProcessor({
    kafka,
    logger: quiet,
    groupId,
    inputTopic: topic,
    transactionalIdPrefix: prefix,
    processBatch: async (_partition: number, messages: KafkaMessage[]) => {
      seen.push(...messages.map((m) => m.value!.toString()));
      return { topicMessages: [] };
    },
  });
  processors.push(processor);
  await processor.start();

  const lag = await eventually(
    async () => (await stageLags(admin, [{ stage: 'ledger', topic, groupId }]))[0],
    (s) => s.lag === 0,
    30_000,
  );
  expect(lag.partitions).toEqual([{ partition: 0, committed: '7', head: '7', lag: 0, status: 'caught-up' }]);
  expect(seen).toEqual([]);
}, 60_000);
