// Replay throughput into Redis and into Postgres, through the real broker: the same code
// path as `loyalty replay` (readEvents -> applyRedisBatch / applyPostgresBatch into a
// shadow). Own topics, database and Redis prefix, removed at the end.
//   node libs/read-models/bench/register.js test/ops/replay-throughput.bench.ts [events] [partitions] [concurrency]
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { createDatabaseIfMissing, dropDatabase, migrate } from '@loyalty/read-models';
import { ensureTopics, topicSpecs } from '@loyalty/kafka';
import { generateHistory } from '../../libs/read-models/src/testing/generator';
import { projectPass } from '../../apps/ops/src/replay/project';
import { deleteStoreKeys } from '../../apps/ops/src/replay/redis-keys';

async function main() {
  const total = Number(process.argv[3] ?? 300_000);
  const partitions = Number(process.argv[4] ?? 6);
  const concurrency = Number(process.argv[5] ?? 3);
  const id = `bench${randomBytes(3).toString('hex')}`;
  const topic = `${id}.events`;
  const kafka = new Kafka({ clientId: id, brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(`${id}.`, partitions).filter((t) => t.topic === topic));
  const url = `postgres://postgres@127.0.0.1:5432/loyalty_${id}`;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0');
  const pool = new Pool({ connectionString: url, max: concurrency + 1 });
  try {
    const t0 = Date.now();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let produced = 0;
    for (let p = 0; p < partitions; p++) {
      const h = generateHistory({ members: Math.max(1, Math.round(total / partitions / 10)), events: Math.round(total / partitions), seed: 42 + p, partition: p, memberPrefix: `p${p}-` });
      for (let i = 0; i < h.events.length; i += 5000) {
        const chunk = h.events.slice(i, i + 5000);
        await producer.send({
          topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: chunk.map((e) => ({ partition: p, key: e.envelope.memberId, value: JSON.stringify(e.envelope) })),
        });
        produced += chunk.length;
      }
    }
    await producer.disconnect();
    console.log(`produced ${produced} events into ${partitions} partitions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const prefix = `${id}:`;
    let start = Date.now();
    const r = await projectPass({ kafka, topic, targets: { redis: { redis, prefix } }, concurrency });
    let secs = (Date.now() - start) / 1000;
    console.log(`redis     ${r.applied} events in ${secs.toFixed(2)} s = ${Math.round(r.applied / secs)} events/s (concurrency ${concurrency})`);

    await createDatabaseIfMissing(url);
    await migrate({ connectionString: url, schema: 'shadow', analytics: false });
    start = Date.now();
    const q = await projectPass({ kafka, topic, targets: { pg: { pool, schema: 'shadow', projection: 'postgres' } }, concurrency });
    secs = (Date.now() - start) / 1000;
    console.log(`postgres  ${q.applied} events in ${secs.toFixed(2)} s = ${Math.round(q.applied / secs)} events/s (concurrency ${concurrency})`);
    await deleteStoreKeys(redis, prefix);
  } finally {
    await pool.end().catch(() => undefined);
    redis.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await dropDatabase(url).catch(() => undefined);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
