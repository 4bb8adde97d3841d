// The set-up both replay benches share: a topic of their own filled with a generated
// history (the same for a given size), a database URL and a Redis client; all removed after.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { dropDatabase } from '@loyalty/read-models';
import { ensureTopics, topicSpecs } from '@loyalty/kafka';
import { generateHistory } from '../../libs/read-models/src/testing/generator';

export interface ReplayBenchFixture {
  id: string;
  kafka: Kafka;
  topic: string;
  url: string;
  pool: Pool;
  redis: Redis;
  produced: number;
}

export async function withReplayBenchFixture(
  o: { total: number; partitions: number; poolMax: number },
  run: (f: ReplayBenchFixture) => Promise<void>,
): Promise<void> {
  const id = `bench${randomBytes(3).toString('hex')}`;
  const topic = `${id}.events`;
  const kafka = new Kafka({ clientId: id, brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(`${id}.`, o.partitions).filter((t) => t.topic === topic));
  const url = `postgres://postgres@127.0.0.1:5432/loyalty_${id}`;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  const pool = new Pool({ connectionString: url, max: o.poolMax }).on('error', () => undefined);
  try {
    const t0 = Date.now();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let produced = 0;
    for (let p = 0; p < o.partitions; p++) {
      const h = generateHistory({ members: Math.max(1, Math.round(o.total / o.partitions / 10)), events: Math.round(o.total / o.partitions), seed: 42 + p, partition: p, memberPrefix: `p${p}-` });
      for (let i = 0; i < h.events.length; i += 5000) {
        const chunk = h.events.slice(i, i + 5000);
        await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: chunk.map((e) => ({ partition: p, key: e.envelope.memberId, value: JSON.stringify(e.envelope) })) });
        produced += chunk.length;
      }
    }
    await producer.disconnect();
    console.log(`produced ${produced} events into ${o.partitions} partitions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await run({ id, kafka, topic, url, pool, redis, produced });
  } finally {
    await pool.end().catch(() => undefined);
    redis.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await dropDatabase(url).catch(() => undefined);
  }
}
