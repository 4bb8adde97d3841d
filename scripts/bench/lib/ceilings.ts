// The raw ceilings of this machine, on the same messages: what kafkajs, Postgres, Redis and
// Node's JSON can do with the bytes the pipeline moves, with no processing of ours.
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import Redis from 'ioredis';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { upcast, validatePurchaseMessage, type EventEnvelope } from '@loyalty/domain';
import { assertKnown, foldPostgresBatch, foldRedisBatch, migrate, utcIso } from '@loyalty/read-models';
import type { BenchStack } from './stack';
import { connectProducer, publishAll, type Traffic } from './traffic';
import { now, sleep } from './util';

export interface KafkaCeiling {
  produceMsgsPerSec: number;
  produceConsumeMsgsPerSec: number;
  consumeMsgsPerSec: number;
  pipeMsgsPerSec: number;
  txPipeMsgsPerSec: number;
  messages: number;
}

async function consumeUntil(kafka: Kafka, groupId: string, topic: string, total: number, onBatch?: (partition: number, msgs: { key: Buffer | null; value: Buffer | null }[], offsets: () => Promise<void>, lastOffset: string) => Promise<void>, concurrency = 1) {
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 * 1024 * 1024, maxWaitTimeInMs: 100, sessionTimeout: 30000 });
  let count = 0;
  let firstAt = 0;
  let doneAt = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let resolveJoined!: () => void;
  const joined = new Promise<void>((r) => (resolveJoined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => resolveJoined());
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: onBatch === undefined,
    partitionsConsumedConcurrently: concurrency,
    eachBatch: async ({ batch, heartbeat }) => {
      if (batch.isEmpty()) return;
      if (!firstAt) firstAt = now();
      if (onBatch) await onBatch(batch.partition, batch.messages, heartbeat, batch.lastOffset());
      count += batch.messages.length;
      if (count >= total && !doneAt) {
        doneAt = now();
        resolveDone();
      }
    },
  });
  return {
    joined,
    done: done.then(() => ({ firstAt, doneAt, count })),
    stop: () => consumer.disconnect(),
  };
}

export async function kafkaCeiling(stack: BenchStack, t: Traffic): Promise<KafkaCeiling> {
  const a = `${stack.prefix}raw-a`;
  const b = `${stack.prefix}raw-b`;
  const total = t.values.length;
  // 1. produce and consume at once, no processing: first send -> last message consumed.
  const c1 = await consumeUntil(stack.kafka, `${stack.prefix}raw-consume-live`, a, total);
  await c1.joined;
  const producer = await connectProducer(stack.kafka);
  const t0 = now();
  const produced = await publishAll(producer, a, t);
  const r1 = await c1.done;
  await c1.stop();
  const produceConsumeMs = r1.doneAt - t0;
  // 2. consume only, from a topic already full.
  const c2 = await consumeUntil(stack.kafka, `${stack.prefix}raw-consume-full`, a, total);
  const r2 = await c2.done;
  await c2.stop();
  // 3. a stage without processing: consume a, produce each batch to b (plain producer).
  const pipeProducer = stack.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await pipeProducer.connect();
  // Sent in chunks of 1,000: kafkajs groups a send's messages per partition by copying the
  // partition's array for every message (producer/groupMessagesPerPartition.js), quadratic
  // when a whole fetched batch goes to one partition, as co-partitioned outputs do.
  const c3 = await consumeUntil(stack.kafka, `${stack.prefix}raw-pipe`, a, total, async (_p, msgs) => {
    for (let i = 0; i < msgs.length; i += 1000) {
      await pipeProducer.send({ topic: b, acks: -1, compression: CompressionTypes.None, messages: msgs.slice(i, i + 1000).map((m) => ({ key: m.key, value: m.value })) });
    }
  }, 3);
  const r3 = await c3.done;
  await c3.stop();
  await pipeProducer.disconnect();
  // 4. the same with the stages' transaction shape: one transactional producer per input
  //    partition, one transaction per batch carrying the outputs and the input offsets.
  const txProducers = new Map<number, Producer>();
  const group = `${stack.prefix}raw-txpipe`;
  const c4 = await consumeUntil(stack.kafka, group, a, total, async (partition, msgs, _hb, lastOffset) => {
    let p = txProducers.get(partition);
    if (!p) {
      p = stack.kafka.producer({ transactionalId: `${group}-${partition}`, idempotent: true, maxInFlightRequests: 1, retry: { retries: 12, initialRetryTime: 20, maxRetryTime: 2000 } });
      await p.connect();
      txProducers.set(partition, p);
    }
    const tx = await p.transaction();
    for (let i = 0; i < msgs.length; i += 1000) {
      await tx.send({ topic: b, messages: msgs.slice(i, i + 1000).map((m) => ({ key: m.key, value: m.value })), acks: -1 });
    }
    await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: a, partitions: [{ partition, offset: (BigInt(lastOffset) + 1n).toString() }] }] });
    await tx.commit();
  }, 3);
  const r4 = await c4.done;
  await c4.stop();
  await Promise.all([...txProducers.values()].map((p) => p.disconnect()));
  await producer.disconnect();
  return {
    messages: total,
    produceMsgsPerSec: total / (produced.ms / 1000),
    produceConsumeMsgsPerSec: total / (produceConsumeMs / 1000),
    consumeMsgsPerSec: total / ((r2.doneAt - r2.firstAt) / 1000),
    pipeMsgsPerSec: total / ((r3.doneAt - r3.firstAt) / 1000),
    txPipeMsgsPerSec: total / ((r4.doneAt - r4.firstAt) / 1000),
  };
}

/** Reads up to `limit` committed events of the events topic (raw bytes, partition order). */
export async function sampleEvents(stack: BenchStack, limit: number): Promise<Buffer[]> {
  const offsets = await stack.admin.fetchTopicOffsets(stack.topics.events);
  const per = Math.ceil(limit / offsets.length);
  const want = offsets.reduce((n, o) => n + Math.min(per, Number(o.high)), 0);
  const out: Buffer[] = [];
  const consumer = stack.kafka.consumer({ groupId: `${stack.prefix}sample-${Date.now()}`, maxBytesPerPartition: 8 * 1024 * 1024 });
  const seen = new Map<number, number>();
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  await consumer.connect();
  await consumer.subscribe({ topic: stack.topics.events, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const p = batch.partition;
      for (const m of batch.messages) {
        if (Number(m.offset) >= per) break;
        out.push(m.value!);
      }
      seen.set(p, Math.min(per, Number(batch.lastOffset()) + 1));
      const reached = offsets.every((o) => (seen.get(o.partition) ?? 0) >= Math.min(per, Number(o.high)));
      if (reached || out.length >= want) resolve();
    },
  });
  await Promise.race([done, sleep(120_000)]);
  await consumer.disconnect();
  return out;
}

export function jsonCeiling(events: Buffer[], purchases: Buffer[]) {
  // Events as a projector handles them: decode, upcast, check the type, and encode them
  // again (the ledger's side of the same bytes).
  let t0 = now();
  let bytes = 0;
  for (const b of events) {
    const e = upcast(JSON.parse(b.toString('utf8'))) as EventEnvelope;
    assertKnown(e);
    bytes += JSON.stringify(e).length;
  }
  const eventsPerSec = events.length / ((now() - t0) / 1000);
  // Purchases as the ingest handles them: parse + validate, and encode the command.
  t0 = now();
  let ok = 0;
  for (const b of purchases) {
    const v = validatePurchaseMessage(b);
    if (v.ok) {
      ok++;
      bytes += JSON.stringify({ commandId: 'x', correlationId: 'x', type: v.command.type, data: v.command.data, origin: { source: 'ingest', raw: b.toString('utf8') } }).length;
    }
  }
  const purchasesPerSec = purchases.length / ((now() - t0) / 1000);
  return { eventsPerSec, purchasesPerSec, events: events.length, purchases: purchases.length, valid: ok, bytes };
}

const esc = (v: unknown): string => {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
};
const line = (cols: unknown[]) => cols.map(esc).join('\t') + '\n';

/**
 * COPY of the rows the Postgres projection inserts for the same events (one ledger entry
 * per event, plus the purchases and points lots they open) into a scratch schema with the
 * same tables and indexes. The upserts of balances and monthly aggregates are left out:
 * COPY cannot upsert, so this is a ceiling, not the same work.
 */
export async function postgresCeiling(stack: BenchStack, events: Buffer[], connections: number) {
  const schema = `ceiling_${connections}`;
  await migrate({ connectionString: stack.databaseUrl, schema, analytics: false, log: () => undefined });
  const envs = events.map((b) => upcast(JSON.parse(b.toString('utf8'))) as EventEnvelope);
  const chunks: string[][] = [];
  let rows = 0;
  for (let i = 0; i < envs.length; i += 5000) {
    const sets = foldPostgresBatch(envs.slice(i, i + 5000));
    const le = sets.ledger.map((r) => line([r.m, r.s, r.e, r.t, r.v, r.p, 0, r.o, r.r, r.c, r.d])).join('');
    const pu = [...sets.newPurchases.values()]
      .map((p) => line([p.memberId, p.purchaseId, p.sequence, p.amount, p.currency, p.channel, p.storeId, p.occurredAt, p.refunded, p.refundCount, p.pointsEarned, p.pointsReversed]))
      .join('');
    const lo = [...sets.newLots.values()].map((l) => line([l.memberId, l.lotId, l.cause, l.points, l.remaining, l.earnedAt, l.expiresAt ? utcIso(l.expiresAt) : null])).join('');
    rows += sets.ledger.length + sets.newPurchases.size + sets.newLots.size;
    chunks.push([le, pu, lo]);
  }
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new Client({ connectionString: stack.databaseUrl });
      await c.connect();
      return c;
    }),
  );
  const copy = async (c: Client, sql: string, text: string) => {
    if (!text) return;
    await pipeline(Readable.from([text]), c.query(copyFrom(sql)));
  };
  const t0 = now();
  await Promise.all(
    clients.map(async (c, k) => {
      for (let i = k; i < chunks.length; i += connections) {
        const [le, pu, lo] = chunks[i];
        await c.query('BEGIN');
        await c.query('SET LOCAL synchronous_commit = off');
        await copy(c, `COPY ${schema}.ledger_entries (member_id, sequence, event_id, type, version, points_delta, balance_after, occurred_at, recorded_at, causation_id, data) FROM STDIN`, le);
        await copy(c, `COPY ${schema}.purchases (member_id, purchase_id, sequence, amount, currency, channel, store_id, occurred_at, refunded, refund_count, points_earned, points_reversed) FROM STDIN`, pu);
        await copy(c, `COPY ${schema}.points_lots (member_id, lot_id, cause, points, remaining, earned_at, expires_at) FROM STDIN`, lo);
        await c.query('COMMIT');
      }
    }),
  );
  const ms = now() - t0;
  await Promise.all(clients.map((c) => c.end()));
  return { connections, events: envs.length, rows, eventsPerSec: envs.length / (ms / 1000), rowsPerSec: rows / (ms / 1000) };
}

/**
 * Pipelined writes of the same keys the Redis projection writes, pre-aggregated per batch of
 * 5,000 events as the projection does (foldRedisBatch), one HINCRBY/HSET/ZINCRBY per
 * change, no Lua script and no offset check: the ceiling of the store for this data.
 */
export async function redisCeiling(stack: BenchStack, events: Buffer[]) {
  const redis = new Redis(stack.redis.options);
  const p = `${stack.redisPrefix}ceiling:`;
  const envs = events.map((b) => upcast(JSON.parse(b.toString('utf8'))) as EventEnvelope);
  const t0 = now();
  let commands = 0;
  for (let i = 0; i < envs.length; i += 5000) {
    const { members, boards } = foldRedisBatch(envs.slice(i, i + 5000));
    const pipe = redis.pipeline();
    for (const [id, m] of members) {
      const key = `${p}bal:${id}`;
      if (m.delta) pipe.hincrby(key, 'available', m.delta);
      if (m.earned) pipe.hincrby(key, 'lifetimeEarned', m.earned);
      if (m.reversed) pipe.hincrby(key, 'lifetimeReversed', m.reversed);
      if (m.tier) pipe.hset(key, 'sequence', m.sequence, 'tier', m.tier);
      else pipe.hset(key, 'sequence', m.sequence);
      commands += 1 + (m.delta ? 1 : 0) + (m.earned ? 1 : 0) + (m.reversed ? 1 : 0);
    }
    for (const [suffix, byMember] of boards) {
      for (const [id, by] of byMember) {
        if (!by) continue;
        pipe.zincrby(`${p}lb:${suffix}`, -by, id);
        commands++;
      }
    }
    await pipe.exec();
  }
  const ms = now() - t0;
  redis.disconnect();
  return { events: envs.length, commands, eventsPerSec: envs.length / (ms / 1000), commandsPerSec: commands / (ms / 1000) };
}
