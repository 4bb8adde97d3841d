// Replay throughput into Redis and into Postgres, through the real broker: the same code
// path as `loyalty replay` (readEvents -> applyRedisBatch / applyPostgresBatch into a
// shadow). Own topics, database and Redis prefix, removed at the end.
//   node libs/read-models/bench/register.js test/ops/replay-throughput.bench.ts [events] [partitions] [concurrency]
import { createDatabaseIfMissing, migrate } from '@loyalty/read-models';
import { projectPass } from '../../apps/ops/src/replay/project';
import { deleteStoreKeys } from '../../apps/ops/src/replay/redis-keys';
import { withReplayBenchFixture } from './replay-bench-fixture';

async function main() {
  const total = Number(process.argv[3] ?? 300_000);
  const partitions = Number(process.argv[4] ?? 6);
  const concurrency = Number(process.argv[5] ?? 3);
  await withReplayBenchFixture({ total, partitions, poolMax: concurrency + 1 }, async ({ id, kafka, topic, url, pool, redis }) => {
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
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
