/**
 * Proves that kafkajs 2.2.4 works against the broker that scripts/kafka.sh runs
 * (see infra/kafka/README.md): consumer groups, transactions with sendOffsets,
 * read_committed isolation of aborted transactions.
 *
 * Needs a running broker: `scripts/kafka.sh up` (KAFKA_BROKERS overrides 127.0.0.1:9092).
 * The broker is shared: every topic, group and transactional id carries a random
 * prefix, and the topics and groups are deleted at the end.
 * KAFKAJS_LOG_LEVEL=debug|info|warn|error shows kafkajs logs (default: none, because
 * kafkajs logs retriable broker answers such as CONCURRENT_TRANSACTIONS at ERROR level).
 */
import { randomBytes } from 'node:crypto';
import {
  Admin,
  Consumer,
  EachMessagePayload,
  Kafka,
  logLevel,
  Partitioners,
  Producer,
} from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const prefix = `compat-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
const levels: Record<string, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

const kafka = new Kafka({
  clientId: prefix,
  brokers,
  logLevel: levels[(process.env.KAFKAJS_LOG_LEVEL ?? 'nothing').toLowerCase()] ?? logLevel.NOTHING,
  // kafkajs #304: after a commit the coordinator answers CONCURRENT_TRANSACTIONS until the
  // markers are written; the default 300 ms initial back-off makes back-to-back
  // transactions crawl (measured on this broker: ~120 ms per transaction at the default,
  // ~13 ms at 20 ms). 12 retries keep enough total patience for a slow coordinator.
  retry: { initialRetryTime: 20, retries: 12 },
});

const topic = (name: string) => `${prefix}.${name}`;
const group = (name: string) => `${prefix}.${name}`;
const createdTopics: string[] = [];
const createdGroups: string[] = [];
const clients: Array<Producer | Consumer> = [];

let admin: Admin;

async function createTopic(name: string, numPartitions = 1): Promise<string> {
  const t = topic(name);
  const created = await admin.createTopics({
    topics: [{ topic: t, numPartitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  expect(created).toBe(true);
  createdTopics.push(t);
  return t;
}

function plainProducer(): Producer {
  const p = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  clients.push(p);
  return p;
}

function txProducer(transactionalId: string): Producer {
  const p = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    transactionalId: `${prefix}.${transactionalId}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  clients.push(p);
  return p;
}

function consumer(groupName: string, readUncommitted = false): Consumer {
  const groupId = group(groupName);
  createdGroups.push(groupId);
  const c = kafka.consumer({
    groupId,
    readUncommitted,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 100,
  });
  clients.push(c);
  return c;
}

type Seen = { partition: number; offset: string; key: string; value: string };

/** Runs `c` on `t` from the beginning until `count` messages arrived, then stops it. */
async function consumeExactly(c: Consumer, t: string, count: number, timeoutMs = 30_000): Promise<Seen[]> {
  const seen: Seen[] = [];
  let done!: () => void;
  const reached = new Promise<void>((resolve) => (done = resolve));
  await c.connect();
  await c.subscribe({ topics: [t], fromBeginning: true });
  await c.run({
    eachMessage: async ({ partition, message }: EachMessagePayload) => {
      seen.push({
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
      });
      if (seen.length >= count) done();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms with ${seen.length}/${count} messages from ${t}`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([reached, timeout]);
  } finally {
    clearTimeout(timer);
  }
  // Give a wrongly delivered extra message (e.g. an aborted one) the chance to show up.
  await new Promise((r) => setTimeout(r, 500));
  await c.stop();
  return seen;
}

/** Committed offsets of a group on a topic, as partition -> offset string. */
async function groupOffsets(groupId: string, t: string): Promise<Record<number, string>> {
  const [res] = await admin.fetchOffsets({ groupId, topics: [t] });
  return Object.fromEntries(res.partitions.map((p) => [p.partition, p.offset]));
}

/** Polls `read` until it deep-equals `expected` or `timeoutMs` passes; returns the last value. */
async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (JSON.stringify(value) === JSON.stringify(expected) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The integration project's testTimeout is not applied per project by jest 29: set it here.
jest.setTimeout(120_000);

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  if (admin) {
    if (createdGroups.length) await admin.deleteGroups([...new Set(createdGroups)]).catch(() => undefined);
    if (createdTopics.length) await admin.deleteTopics({ topics: createdTopics, timeout: 10_000 }).catch(() => undefined);
    const left = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    await admin.disconnect();
    expect(left).toEqual([]);
  }
});

describe('kafkajs 2.2.4 against the local broker', () => {
  it('produces and consumes in a consumer group, committing exact offsets', async () => {
    const t = await createTopic('plain', 3);
    const producer = plainProducer();
    await producer.connect();
    const messages = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }));
    await producer.send({ topic: t, messages });

    const c = consumer('plain');
    const seen = await consumeExactly(c, t, 30);

    expect(seen.map((m) => m.value).sort()).toEqual(messages.map((m) => m.value).sort());
    // Per key (one partition per key) the order of production is kept.
    for (let k = 0; k < 5; k++) {
      const expected = messages.filter((m) => m.key === `k${k}`).map((m) => m.value);
      expect(seen.filter((m) => m.key === `k${k}`).map((m) => m.value)).toEqual(expected);
      expect(new Set(seen.filter((m) => m.key === `k${k}`).map((m) => m.partition)).size).toBe(1);
    }
    // The group committed exactly the end of each partition.
    const ends = await admin.fetchTopicOffsets(t);
    const committed = await groupOffsets(group('plain'), t);
    expect(ends.reduce((n, p) => n + Number(p.high), 0)).toBe(30);
    for (const p of ends) expect(committed[p.partition]).toBe(p.high);
  });

  it('consume-transform-produce: a transaction sends output and input offsets, commit makes both visible', async () => {
    const input = await createTopic('tx-in');
    const output = await createTopic('tx-out');
    const source = plainProducer();
    await source.connect();
    await source.send({ topic: input, messages: [1, 2, 3, 4, 5].map((n) => ({ key: 'acc-1', value: String(n) })) });

    // One transactional id per input partition (kafkajs sendOffsets carries no group generation).
    const producer = txProducer(`tx-in-0`);
    await producer.connect();
    const groupId = group('tx');
    createdGroups.push(groupId);
    const c = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
    clients.push(c);
    await c.connect();
    await c.subscribe({ topics: [input], fromBeginning: true });

    let processed = 0;
    let transactions = 0;
    let sentOffsets = '';
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await c.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const txn = await producer.transaction();
        try {
          await txn.send({
            topic: output,
            messages: batch.messages.map((m) => ({ key: m.key, value: String(Number(m.value) * 10) })),
          });
          sentOffsets = (Number(batch.lastOffset()) + 1).toString();
          await txn.sendOffsets({
            consumerGroupId: groupId,
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: sentOffsets }] }],
          });
          await txn.commit();
        } catch (e) {
          await txn.abort().catch(() => undefined);
          throw e;
        }
        transactions++;
        for (const m of batch.messages) resolveOffset(m.offset);
        await heartbeat();
        processed += batch.messages.length;
        if (processed >= 5) done();
      },
    });
    await finished;
    await c.stop();

    expect(processed).toBe(5);
    expect(transactions).toBeGreaterThanOrEqual(1);
    expect(sentOffsets).toBe('5');
    // The group offset is exactly what sendOffsets committed in the transaction. It shows
    // once the coordinator has written the commit marker to __consumer_offsets, a few ms
    // after commit() returns: kafkajs' OffsetFetch cannot ask for stable offsets (KIP-447),
    // so until then it reads the previous value (-1 here).
    expect(await eventually(() => groupOffsets(groupId, input), { 0: '5' })).toEqual({ 0: '5' });

    // The output is visible to a read_committed consumer, in order.
    const out = await consumeExactly(consumer('tx-out-reader'), output, 5);
    expect(out.map((m) => m.value)).toEqual(['10', '20', '30', '40', '50']);

    // sendOffsets in an aborted transaction leaves the committed group offset alone.
    const txn = await producer.transaction();
    await txn.send({ topic: output, messages: [{ key: 'acc-1', value: 'never' }] });
    await txn.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic: input, partitions: [{ partition: 0, offset: '2' }] }],
    });
    await txn.abort();
    // The next transaction of the same producer can only start once the abort is complete
    // (markers written), so after its commit the aborted offset would have shown.
    const next = await producer.transaction();
    await next.send({ topic: output, messages: [{ key: 'acc-1', value: 'after-abort' }] });
    await next.commit();
    expect(await groupOffsets(groupId, input)).toEqual({ 0: '5' });
    const after = await consumeExactly(consumer('tx-out-reader-2'), output, 6);
    expect(after.map((m) => m.value)).toEqual(['10', '20', '30', '40', '50', 'after-abort']);
  });

  it('a transactional producer finds its coordinators once, not before every request (patched)', async () => {
    // Given a transactional producer and a consumer group's offsets to commit in each transaction
    const t = await createTopic('coordinators');
    const groupId = group('coordinators');
    createdGroups.push(groupId);
    const producer = txProducer('coordinators');
    const requests: string[] = [];
    producer.on(producer.events.REQUEST, (e) => requests.push(e.payload.apiName));
    await producer.connect();

    // When it runs five consume-transform-produce transactions
    for (let i = 0; i < 5; i++) {
      const txn = await producer.transaction();
      await txn.send({ topic: t, messages: [{ key: 'k', value: `v${i}` }] });
      await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: t, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
      await txn.commit();
    }

    // Then it looked up the transaction coordinator and the group coordinator once each
    // (unpatched kafkajs asks four times per transaction), and every transaction committed.
    expect(requests.filter((r) => r === 'GroupCoordinator')).toHaveLength(2);
    expect(requests.filter((r) => r === 'EndTxn')).toHaveLength(5);
    expect(await eventually(() => groupOffsets(groupId, t), { 0: '5' })).toEqual({ 0: '5' });
    const out = await consumeExactly(consumer('coordinators-reader'), t, 5);
    expect(out.map((m) => m.value)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('a transaction of offsets only, right after a commit, commits (patched)', async () => {
    // Given a transactional producer whose previous transaction has just committed: the
    // coordinator answers CONCURRENT_TRANSACTIONS until that transaction's markers are written
    const t = await createTopic('offsets-only');
    const groupId = group('offsets-only');
    createdGroups.push(groupId);
    const producer = txProducer('offsets-only');
    await producer.connect();

    // When it commits offsets alone, back to back (the processors' commit past a marker-only fetch)
    const failures: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const txn = await producer.transaction();
      try {
        await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: t, partitions: [{ partition: 0, offset: String(i) }] }] });
        await txn.commit();
      } catch (err) {
        failures.push((err as { type?: string }).type ?? (err as Error).message);
        await txn.abort().catch(() => undefined);
      }
    }

    // Then every one committed: AddOffsetsToTxn is retried as AddPartitionsToTxn is (unpatched
    // kafkajs failed about one in five here, and the processor rebuilt its producer each time)
    expect(failures).toEqual([]);
    expect(await eventually(() => groupOffsets(groupId, t), { 0: '30' })).toEqual({ 0: '30' });
  });

  it('read_committed never sees aborted transactions; read_uncommitted does', async () => {
    const t = await createTopic('isolation');
    const producer = txProducer('isolation');
    await producer.connect();
    const batch = (tag: string) => [0, 1, 2].map((i) => ({ key: 'k', value: `${tag}-${i}` }));

    // Back-to-back: commit A, abort B, commit C (each marker takes one offset).
    let txn = await producer.transaction();
    await txn.send({ topic: t, messages: batch('A') });
    await txn.commit();
    txn = await producer.transaction();
    await txn.send({ topic: t, messages: batch('B') });
    await txn.abort();
    txn = await producer.transaction();
    await txn.send({ topic: t, messages: batch('C') });
    await txn.commit();

    // 9 records + 3 control markers. kafkajs lists read_committed offsets (the last stable
    // offset), which moves to 12 once C's commit marker is written, just after commit().
    const high = () => admin.fetchTopicOffsets(t).then(([p]) => p.high);
    expect(await eventually(high, '12')).toBe('12');

    const committed = await consumeExactly(consumer('rc', false), t, 6);
    expect(committed.map((m) => m.value)).toEqual(['A-0', 'A-1', 'A-2', 'C-0', 'C-1', 'C-2']);
    expect(committed.map((m) => m.offset)).toEqual(['0', '1', '2', '8', '9', '10']);

    // The aborted records are in the log: a read_uncommitted consumer gets them.
    const all = await consumeExactly(consumer('ru', true), t, 9);
    expect(all.map((m) => m.value)).toEqual(['A-0', 'A-1', 'A-2', 'B-0', 'B-1', 'B-2', 'C-0', 'C-1', 'C-2']);
    expect(all.map((m) => m.offset)).toEqual(['0', '1', '2', '4', '5', '6', '8', '9', '10']);
  });
});
