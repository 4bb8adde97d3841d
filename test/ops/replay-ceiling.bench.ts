// Where does replay time go? Produces the same history as replay-throughput.bench.ts
// ONCE, then measures on it, each mode `runs` times:
//   raw      kafkajs consume, eachBatch does nothing (the ceiling of the client)
//   parse    kafkajs consume + JSON.parse of every value (the ceiling of decoding)
//   read     readEvents (decode + upcast) with a no-op onBatch (the replay's reader alone)
//   redis    projectPass into a fresh Redis prefix
//   postgres projectPass into a fresh schema
//   node libs/read-models/bench/register.js test/ops/replay-ceiling.bench.ts [events] [partitions] [concurrency] [runs] [modes,...]
// Own topic, database and Redis prefix, removed at the end. Run under `node --cpu-prof` to profile.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Kafka } from 'kafkajs';
import { createDatabaseIfMissing, migrate, readEvents } from '@loyalty/read-models';
import { fixedPartitionsAssigner } from '@loyalty/kafka';
import { projectPass } from '../../apps/ops/src/replay/project';
import { deleteStoreKeys } from '../../apps/ops/src/replay/redis-keys';
import { withReplayBenchFixture } from './replay-bench-fixture';

async function rawConsume(kafka: Kafka, topic: string, partitions: number, concurrency: number, parse: boolean, total: number): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `ceiling-${randomBytes(4).toString('hex')}`,
    partitionAssigners: [fixedPartitionsAssigner(topic, Array.from({ length: partitions }, (_, p) => p))],
    maxBytes: 64 * 1024 * 1024,
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let n = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const start = Date.now();
  let sink = 0;
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: concurrency,
    eachBatch: async ({ batch }) => {
      if (parse) for (const m of batch.messages) sink += JSON.parse(m.value!.toString('utf8')).sequence;
      n += batch.messages.length;
      if (n >= total) done();
    },
  });
  await finished;
  const secs = (Date.now() - start) / 1000;
  await consumer.disconnect();
  if (sink < 0) console.log(sink);
  return n / secs;
}

async function main() {
  const total = Number(process.argv[3] ?? 300_000);
  const partitions = Number(process.argv[4] ?? 6);
  const concurrency = Number(process.argv[5] ?? 3);
  const runs = Number(process.argv[6] ?? 1);
  const modes = (process.argv[7] ?? 'raw,parse,read,redis,postgres').split(',');
  await withReplayBenchFixture({ total, partitions, poolMax: concurrency + 2 }, async ({ id, kafka, topic, url, pool, redis, produced }) => {
    if (modes.includes('postgres')) await createDatabaseIfMissing(url);
    // PROFILE=file.cpuprofile: a CPU profile of the measured modes only (not the production).
    const session = process.env.PROFILE ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    for (let run = 1; run <= runs; run++) {
      for (const mode of modes) {
        let rate = 0;
        const start = Date.now();
        if (mode === 'raw' || mode === 'parse') rate = await rawConsume(kafka, topic, partitions, concurrency, mode === 'parse', produced);
        else if (mode === 'read') {
          const r = await readEvents({ kafka, topic, partitionsConcurrently: concurrency, onBatch: () => undefined });
          rate = r.events / ((Date.now() - start) / 1000);
        } else if (mode === 'redis') {
          const prefix = `${id}:${run}:`;
          const r = await projectPass({ kafka, topic, targets: { redis: { redis, prefix } }, concurrency });
          rate = r.applied / ((Date.now() - start) / 1000);
          await deleteStoreKeys(redis, prefix);
        } else if (mode === 'postgres') {
          const schema = `shadow${run}`;
          await migrate({ connectionString: url, schema, analytics: false });
          const t = Date.now();
          const r = await projectPass({ kafka, topic, targets: { pg: { pool, schema, projection: 'postgres' } }, concurrency });
          rate = r.applied / ((Date.now() - t) / 1000);
          await pool.query(`DROP SCHEMA ${schema} CASCADE`);
        }
        console.log(`run ${run} ${mode.padEnd(8)} ${Math.round(rate)} events/s`);
      }
    }
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(process.env.PROFILE!, JSON.stringify(profile));
      session.disconnect();
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
