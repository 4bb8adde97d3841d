// Throughput of the two projections on this machine:
//   node libs/read-models/bench/register.js libs/read-models/bench/projection.bench.ts [events] [members] [partitions] [batch sizes...]
// `partitions` histories of `events` events each are projected concurrently, one
// connection per partition (as the projector does). Own database and Redis prefix,
// removed at the end.
import { Client } from 'pg';
import Redis from 'ioredis';
import { applyPostgresBatch } from '../src/postgres/postgres.projection';
import { applyRedisBatch } from '../src/redis/redis.projection';
import { batches } from '../src/testing/envelopes';
import { generateHistory } from '../src/testing/generator';
import { openHarness, REDIS_URL } from '../src/testing/harness';

async function main() {
  const events = Number(process.argv[3] ?? 200_000);
  const members = Number(process.argv[4] ?? 20_000);
  const partitions = Number(process.argv[5] ?? 1);
  const sizes = process.argv.slice(6).map(Number);
  const batchSizes = sizes.length ? sizes : [1_000, 2_000, 5_000];
  const t0 = Date.now();
  const hists = Array.from({ length: partitions }, (_, p) => generateHistory({ members, events, seed: 42 + p, partition: p, memberPrefix: `p${p}-` }));
  const total = hists.reduce((n, h) => n + h.events.length, 0);
  console.log(`generated ${partitions} x ${events} events (${members} members each) in ${Date.now() - t0} ms`);

  for (const size of batchSizes) {
    const h = await openHarness();
    const clients = await Promise.all(hists.map(async () => { const c = new Client({ connectionString: h.url }); await c.connect(); return c; }));
    const redises = hists.map(() => new Redis(REDIS_URL));
    try {
      let start = process.hrtime.bigint();
      await Promise.all(hists.map(async (hist, i) => {
        for (const b of batches(hist.events, size)) {
          await applyPostgresBatch(clients[i], { projection: 'bench', topic: 'loyalty.events', partition: hist.partition, events: b }, { schema: h.schema });
        }
      }));
      let secs = Number(process.hrtime.bigint() - start) / 1e9;
      console.log(`postgres  ${partitions} partition(s), batch ${String(size).padStart(5)}: ${total} events in ${secs.toFixed(2)} s = ${Math.round(total / secs)} events/s`);

      start = process.hrtime.bigint();
      await Promise.all(hists.map(async (hist, i) => {
        for (const b of batches(hist.events, size)) {
          const r = await applyRedisBatch(redises[i], { prefix: h.prefix, partition: hist.partition, events: b });
          if (r.status !== 'applied') throw new Error(r.status);
        }
      }));
      secs = Number(process.hrtime.bigint() - start) / 1e9;
      console.log(`redis     ${partitions} partition(s), batch ${String(size).padStart(5)}: ${total} events in ${secs.toFixed(2)} s = ${Math.round(total / secs)} events/s`);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
      redises.forEach((r) => r.disconnect());
      await h.close();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
