// Duplicate purchases, a refund that overtakes its purchase, and concurrent redemptions for
// one member, through the real broker: the events in loyalty.events are exactly those of
// the decider run over the same commands in partition order.
import { deepStrictEqual } from 'node:assert';
import {
  DEFAULT_PROGRAMME,
  decide,
  envelopeMetaFor,
  evolveAll,
  initialState,
  toEnvelopes,
  type EventEnvelope,
  type MemberCommand,
} from '@loyalty/domain';
import { readPartitionsToEnd, type CommandMessage, type CommandOutcome } from '@loyalty/kafka';
import { createStack, eventually, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack({ partitions: 1 });
  await stack.start('ledger');
});

afterAll(async () => {
  await stack?.teardown();
});

async function readTopic<T>(topic: string): Promise<T[]> {
  const out: T[] = [];
  await readPartitionsToEnd({ kafka: stack.kafka, topic, partitions: [0], onBatch: (_p, ms) => ms.forEach((m) => out.push(JSON.parse(m.value!.toString()))) });
  return out;
}

it('given one member, when duplicates, an early refund and racing redemptions arrive, then the ledger emits what the decider says in partition order', async () => {
  const m = `order-${stack.id}`;
  const t = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
  const purchase = (id: string, amount: number, at: string) => ({ type: 'RecordPurchase' as const, data: { memberId: m, purchaseId: id, amount, currency: 'USD', occurredAt: at } });
  const refund = (id: string, purchaseId: string, amount: number) => ({ type: 'RefundPurchase' as const, data: { memberId: m, refundId: id, purchaseId, amount, currency: 'USD', occurredAt: t(1) } });
  const redeem = (key: string, rewardId: string) => ({ type: 'RedeemPoints' as const, data: { memberId: m, idempotencyKey: key, rewardId } });
  const commands = [
    refund('r-early', 'p2', 1_000), // overtakes its purchase: unknown-purchase
    purchase('p1', 60_000, t(50)),
    purchase('p1', 60_000, t(50)), // duplicate
    purchase('p2', 30_000, t(40)),
    refund('r-early', 'p2', 1_000), // now the purchase exists
    redeem('k1', 'voucher-10'),
    redeem('k2', 'voucher-10'),
    redeem('k3', 'coffee'),
    redeem('k1', 'voucher-10'), // a retry of k1
    refund('r-2', 'p1', 60_000), // full refund after points were spent: may go below zero
    purchase('p3', 2_500, t(10)),
  ].map((c, i): CommandMessage => ({ commandId: `c${i}`, correlationId: `c${i}`, type: c.type, data: c.data, origin: { source: 'api' } }));

  const producer = stack.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: stack.topics.commands, messages: commands.map((c) => ({ key: m, value: JSON.stringify(c) })) });
  await producer.disconnect();

  const outcomes = await eventually(() => readTopic<CommandOutcome>(stack.topics.commandResults), (o) => o.length >= commands.length, 60_000);
  expect(outcomes.map((o) => o.commandId)).toEqual(commands.map((c) => c.commandId));
  const events = await readTopic<EventEnvelope>(stack.topics.events);

  // Replay the same commands through the pure decider, at the times the ledger recorded.
  let state = initialState(m);
  let now = events[0].recordedAt;
  const expected: EventEnvelope[] = [];
  for (const c of commands) {
    const own = events.filter((e) => e.causationId === c.commandId);
    now = own[0]?.recordedAt ?? now;
    const command = { type: c.type, data: c.data, metadata: { commandId: c.commandId, correlationId: c.correlationId, now } } as MemberCommand;
    const decision = decide(command, state, DEFAULT_PROGRAMME);
    if (!decision.ok || decision.events.length === 0) continue;
    const envelopes = toEnvelopes(m, state.sequence + 1, decision.events, envelopeMetaFor(command));
    state = evolveAll(state, envelopes);
    expected.push(...envelopes);
  }
  deepStrictEqual(events, expected);

  const statuses = outcomes.map((o) => `${o.status}${o.rejection ? ':' + o.rejection.code : ''}`);
  expect(statuses).toEqual([
    'rejected:unknown-purchase',
    'accepted',
    'duplicate',
    'accepted',
    'accepted',
    'accepted', // 50 welcome + 600 (p1 lifts to Silver) + 375 (p2 at ×1.25) − 12 reversed = 1,013: k1 takes 500
    'accepted', // k2 takes 500, 13 left
    'rejected:insufficient-points', // k3: coffee (100) does not fit
    'duplicate',
    'accepted',
    'accepted',
  ]);
});
