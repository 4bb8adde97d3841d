// Two ledger processes share the partitions; one is killed with SIGKILL in the middle of
// a stream of purchases. After the rebalance every purchase is counted exactly once.
import { Kafka, logLevel } from 'kafkajs';
import type { EventEnvelope } from '@loyalty/domain';
import { readPartitionsToEnd, stageLags } from '@loyalty/kafka';
import { generateTraffic } from '../../scripts/traffic/generator';
import { createStack, eventually, type Stack } from '../support/stack';

const PURCHASES = Number(process.env.TEST_CRASH_PURCHASES ?? 100_000);
const PARTITIONS = 6;
let stack: Stack;

beforeAll(async () => {
  stack = await createStack({ partitions: PARTITIONS });
});

afterAll(async () => {
  await stack?.teardown();
});

async function readAll(kafka: Kafka, topic: string): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  await readPartitionsToEnd({
    kafka,
    topic,
    partitions: [...Array(PARTITIONS).keys()],
    onBatch: (_p, messages) => {
      for (const m of messages) out.push(JSON.parse(m.value!.toString()));
    },
  });
  return out;
}

it(`given two ledgers, when one is SIGKILLed mid-stream of ${PURCHASES} purchases, then each purchase is counted exactly once`, async () => {
  // Committed purchases, as read_committed readers see them.
  const purchasesSeen = new Set<string>();
  const watcher = stack.kafka.consumer({ groupId: `${stack.id}-watch` });
  await watcher.connect();
  await watcher.subscribe({ topic: stack.topics.events, fromBeginning: true });
  await watcher.run({
    eachBatch: async ({ batch }) =>
      batch.messages.forEach((m) => {
        const e = JSON.parse(m.value!.toString()) as EventEnvelope;
        if (e.type === 'PurchaseMade') purchasesSeen.add((e.data as { purchaseId: string }).purchaseId);
      }),
  });

  const first = await stack.start('ledger', { LOG_LEVEL: 'info' });
  await stack.start('ledger', { LOG_LEVEL: 'info' });

  // The input, with duplicates and refunds, on member keys (so each member's order is kept).
  const input = [...generateTraffic({ seed: 7, purchases: PURCHASES, members: 5_000, malformedPerMille: 0, start: new Date(Date.now() - 30 * 86_400_000), spreadMinutes: 29 * 24 * 60 })];
  const producer = new Kafka({ clientId: stack.id, brokers: stack.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sending = (async () => {
    for (let i = 0; i < input.length; i += 2_000) {
      await producer.send({ topic: stack.topics.purchases, messages: input.slice(i, i + 2_000).map(({ key, value }) => ({ key, value })) });
    }
  })();

  // Kill one ledger once it is visibly in the middle of the stream.
  await eventually(async () => purchasesSeen.size, (n) => n > PURCHASES / 5, 120_000);
  first.kill('SIGKILL');
  await sending;
  await producer.disconnect();

  // Done when the ingest and the surviving ledger have committed every input offset.
  const admin = stack.kafka.admin();
  await admin.connect();
  const stages = () =>
    stageLags(admin, [
      { stage: 'ingest', topic: stack.topics.purchases, groupId: `${stack.env.TOPIC_PREFIX}ingest` },
      { stage: 'ledger', topic: stack.topics.commands, groupId: `${stack.env.TOPIC_PREFIX}ledger` },
    ]);
  const behind = async () => (await stages()).reduce((n, s) => n + s.lag, 0);
  await eventually(behind, (n) => n === 0, 300_000);
  // Again: heads and group offsets are read one after the other, so one zero could be stale.
  // Named by stage and partition, so that a failure says where the input was left behind.
  const lagging = (await stages()).flatMap((s) => s.partitions.filter((p) => p.lag > 0).map((p) => ({ stage: s.stage, ...p })));
  await admin.disconnect();
  await watcher.disconnect();
  expect(lagging).toEqual([]);

  const events = await readAll(stack.kafka, stack.topics.events);
  const purchaseMade = new Map<string, number>();
  const bySequence = new Map<string, number[]>();
  for (const e of events) {
    if (e.type === 'PurchaseMade') {
      const id = (e.data as { purchaseId: string }).purchaseId;
      purchaseMade.set(id, (purchaseMade.get(id) ?? 0) + 1);
    }
    const seqs = bySequence.get(e.memberId) ?? [];
    seqs.push(e.sequence);
    bySequence.set(e.memberId, seqs);
  }
  const purchaseIds = new Set(input.filter((m) => m.kind === 'purchase').map((m) => JSON.parse(m.value).purchaseId as string));
  expect(purchaseMade.size).toBe(purchaseIds.size);
  expect([...purchaseMade.values()].every((n) => n === 1)).toBe(true);
  // Per member: sequences 1..n in order, no gap and no repeat.
  for (const [memberId, seqs] of bySequence) {
    const ok = seqs.every((s, i) => s === i + 1);
    if (!ok) throw new Error(`member ${memberId} has sequences ${seqs.slice(0, 20).join(',')}…`);
  }
  // Refunds: each refundId reversed at most once.
  const refunds = events.filter((e) => e.type === 'PurchaseRefunded').map((e) => (e.data as { refundId: string }).refundId);
  expect(new Set(refunds).size).toBe(refunds.length);
}, 600_000);
