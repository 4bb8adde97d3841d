// The replay's driving (pipelined reads, fetches merged into big batches, several
// partitions at once) must build EXACTLY the rows the live path builds. A generated
// history goes through the real broker; the live path (applyPostgresBatch in small
// batches of varying size, as a projector receives them) fills schema `live`, the
// replay (projectPass) fills schema `shadow`; every table is compared row by row
// (only the updated_at wall-clock columns left out), and the Redis prefixes key by key.
import { randomBytes } from 'node:crypto';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { upcast } from '@loyalty/domain';
import { ensureTopics, topicSpecs } from '@loyalty/kafka';
import { applyPostgresBatch, applyRedisBatch, migrate, type PartitionEvent } from '@loyalty/read-models';
import { generateHistory } from '../../libs/read-models/src/testing/generator';
import { openHarness, type Harness } from '../../libs/read-models/src/testing/harness';
import { projectPass } from '../../apps/ops/src/replay/project';
import { deleteStoreKeys } from '../../apps/ops/src/replay/redis-keys';

const PARTITIONS = 3;
const TABLES: Record<string, string> = {
  member_balances: 'member_id',
  ledger_entries: 'member_id, sequence',
  tier_history: 'member_id, sequence',
  redemptions: 'member_id, redemption_id',
  points_lots: 'member_id, lot_id',
  purchases: 'member_id, purchase_id',
  member_months: 'member_id, month',
  daily_stats: 'day, partition',
  projection_offsets: 'projection, topic, partition',
};

describe('replay builds the same rows as the live path', () => {
  let h: Harness;
  let kafka: Kafka;
  const id = `rows${randomBytes(3).toString('hex')}`;
  const topic = `${id}.events`;
  const histories = Array.from({ length: PARTITIONS }, (_, p) => generateHistory({ members: 300, events: 6000, seed: 7 + p, partition: p, memberPrefix: `p${p}-` }));

  beforeAll(async () => {
    h = await openHarness('live');
    await migrate({ connectionString: h.url, schema: 'shadow', analytics: false });
    kafka = new Kafka({ clientId: id, brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs(`${id}.`, PARTITIONS).filter((t) => t.topic === topic));
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (const hist of histories) {
      // Several sends: the replay sees several fetches and record batches per partition.
      for (let i = 0; i < hist.events.length; i += 700) {
        await producer.send({
          topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: hist.events.slice(i, i + 700).map((e) => ({ partition: hist.partition, key: e.envelope.memberId, value: JSON.stringify(e.envelope) })),
        });
      }
    }
    await producer.disconnect();
  });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await deleteStoreKeys(h.redis, `${h.prefix}live:`).catch(() => undefined);
    await deleteStoreKeys(h.redis, `${h.prefix}shadow:`).catch(() => undefined);
    await h.close();
  });

  it('Postgres tables and Redis keys are identical', async () => {
    // Live path, decoding as the live projector does (JSON, upcast); the offsets are the
    // broker's (the producer wrote one record per event, no transactions).
    const sizes = [1, 37, 250, 999, 64];
    for (const hist of histories) {
      let i = 0;
      let k = 0;
      while (i < hist.events.length) {
        const batch: PartitionEvent[] = hist.events
          .slice(i, i + sizes[k++ % sizes.length])
          .map((e) => ({ offset: e.offset, envelope: upcast(JSON.parse(JSON.stringify(e.envelope))) }));
        i += batch.length;
        await applyPostgresBatch(h.client, { projection: 'postgres', topic, partition: hist.partition, events: batch }, { schema: 'live' });
        const r = await applyRedisBatch(h.redis, { prefix: `${h.prefix}live:`, partition: hist.partition, events: batch });
        expect(r.status).toBe('applied');
      }
    }

    const r = await projectPass({
      kafka,
      topic,
      targets: { pg: { pool: h.pool, schema: 'shadow', projection: 'postgres' }, redis: { redis: h.redis, prefix: `${h.prefix}shadow:` } },
      concurrency: 3,
    });
    expect(r.applied).toBe(histories.reduce((n, x) => n + x.events.length, 0));

    for (const [table, order] of Object.entries(TABLES)) {
      const cols = (await h.client.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'live' AND table_name = $1 AND column_name <> 'updated_at' ORDER BY ordinal_position`, [table])).rows.map((x) => `"${x.column_name}"::text`);
      const q = (schema: string) => h.client.query({ text: `SELECT ${cols.join(', ')} FROM ${schema}.${table} ORDER BY ${order}`, rowMode: 'array' });
      const [live, shadow] = await Promise.all([q('live'), q('shadow')]);
      expect(live.rows.length).toBeGreaterThan(0);
      expect({ table, rows: shadow.rows }).toEqual({ table, rows: live.rows });
    }

    const dump = async (prefix: string) => {
      const out: Record<string, unknown> = {};
      let cursor = '0';
      do {
        const [next, keys] = await h.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const name = key.slice(prefix.length);
          if (name === 'meta') continue; // epoch and creation time differ by design
          const type = await h.redis.type(key);
          if (type === 'hash') out[name] = await h.redis.hgetall(key);
          else if (type === 'zset') out[name] = await h.redis.zrange(key, 0, -1, 'WITHSCORES');
          else if (type === 'set') out[name] = (await h.redis.smembers(key)).sort();
          else out[name] = type;
        }
      } while (cursor !== '0');
      return out;
    };
    const [liveKeys, shadowKeys] = await Promise.all([dump(`${h.prefix}live:`), dump(`${h.prefix}shadow:`)]);
    expect(Object.keys(liveKeys).length).toBeGreaterThan(PARTITIONS * 300);
    expect(shadowKeys).toEqual(liveKeys);
  });
});
