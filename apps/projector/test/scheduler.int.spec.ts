// The scheduler against the real Postgres read model and the real broker: given lots and
// tiers in the read model, when it ticks, then it sends ExpirePoints / ReviewTier with an
// explicit as-of, and the monthly review only once.
import { createLogger } from '@loyalty/config';
import { DEFAULT_PROGRAMME } from '@loyalty/domain';
import { readPartitionsToEnd, type CommandMessage } from '@loyalty/kafka';
import { createStack, type Stack } from '../../../test/support/stack';
import { Scheduler } from '../src/scheduler/scheduler';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack({ partitions: 2 });
});

afterAll(async () => {
  await stack?.teardown();
});

async function commandsSent(): Promise<CommandMessage[]> {
  const out: CommandMessage[] = [];
  await readPartitionsToEnd({ kafka: stack.kafka, topic: stack.topics.commands, partitions: [0, 1], onBatch: (_p, ms) => ms.forEach((m) => out.push(JSON.parse(m.value!.toString()))) });
  return out;
}

it('given an expired lot and a Gold member, when the scheduler ticks twice in a month, then expiry is asked each time and the review once', async () => {
  const s = stack.schema;
  await stack.pool.query(
    `INSERT INTO ${s}.member_balances (member_id, available, lifetime_earned, tier, sequence) VALUES ('gold-1', 2500, 2500, 'Gold', 5), ('member-1', 10, 10, 'Member', 2)`,
  );
  await stack.pool.query(
    `INSERT INTO ${s}.points_lots (member_id, lot_id, cause, points, remaining, earned_at, expires_at)
     VALUES ('member-1', 'L2', 'purchase', 10, 10, '2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
            ('gold-1', 'L2', 'purchase', 2500, 2500, '2026-03-01T00:00:00Z', '2027-03-01T00:00:00Z')`,
  );
  const producer = stack.kafka.producer();
  await producer.connect();
  const scheduler = new Scheduler({
    pool: stack.pool,
    producer,
    commandsTopic: stack.topics.commands,
    schema: s,
    scope: stack.env.TOPIC_PREFIX,
    programme: DEFAULT_PROGRAMME,
    logger: createLogger({ level: 'error' }),
  });

  const first = await scheduler.tick(new Date('2026-11-22T10:15:42Z'));
  const second = await scheduler.tick(new Date('2026-11-23T08:00:05Z'));
  await producer.disconnect();

  expect(first).toEqual({ expire: 1, review: 1 });
  expect(second).toEqual({ expire: 1, review: 0 });
  const sent = await commandsSent();
  const byType = (t: string) => sent.filter((c) => c.type === t).map((c) => ({ id: c.commandId, data: c.data }));
  expect(byType('ExpirePoints')).toEqual([
    { id: 'expire:member-1:2026-11-22T10:15:00.000Z', data: { memberId: 'member-1', asOf: '2026-11-22T10:15:00.000Z' } },
    { id: 'expire:member-1:2026-11-23T08:00:00.000Z', data: { memberId: 'member-1', asOf: '2026-11-23T08:00:00.000Z' } },
  ]);
  expect(byType('ReviewTier')).toEqual([{ id: 'review:gold-1:2026-11-01T00:00:00.000Z', data: { memberId: 'gold-1', asOf: '2026-11-01T00:00:00.000Z' } }]);
});
