// Kill -9 a projector in the middle of its batches, start it again: both read models
// equal a fold of the events exactly (no gap, no double), checked by `loyalty verify`.
import type { CommandMessage } from '@loyalty/kafka';
import { createStack, eventually, type Stack } from '../support/stack';
import { publishTraffic, runOps, waitCaughtUp } from '../ops/support';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack({ partitions: 4 });
});

afterAll(async () => {
  await stack?.teardown();
});

it('given a projector SIGKILLed mid-stream, when restarted, then Postgres and Redis equal the events exactly', async () => {
  await stack.start('ledger');
  const projector = await stack.start('projector');
  const publishing = publishTraffic(stack, { purchases: 30_000, members: 2_000, seed: 11 });

  const projected = () => stack.pool.query(`SELECT coalesce(sum(next_offset), 0)::bigint AS n FROM ${stack.schema}.projection_offsets`).then((r) => Number(r.rows[0].n));
  await eventually(projected, (n) => n > 5_000, 120_000);
  projector.kill('SIGKILL');
  await publishing;
  await redeemForTopMembers(20);

  await stack.start('projector');
  await waitCaughtUp(stack, 180);

  const verify = await runOps(stack, ['verify']);
  expect(verify.stdout).toMatch(/no differences/);
  expect(verify.code).toBe(0);

  // And the purchases: one row per PurchaseMade event, none twice.
  const { rows } = await stack.pool.query(
    `SELECT count(*)::int AS entries, count(DISTINCT event_id)::int AS distinct_events FROM ${stack.schema}.ledger_entries WHERE type = 'PurchaseMade'`,
  );
  expect(rows[0].entries).toBe(rows[0].distinct_events);
  const purchases = await stack.pool.query(`SELECT count(*)::int AS n FROM ${stack.schema}.purchases`);
  expect(purchases.rows[0].n).toBe(rows[0].entries);
}, 400_000);

/** Redemptions (with a retry of each) for the members with the most points: the stream then holds every kind of fact. */
async function redeemForTopMembers(n: number): Promise<void> {
  const { rows } = await stack.pool.query(`SELECT member_id FROM ${stack.schema}.member_balances ORDER BY available DESC LIMIT $1`, [n]);
  const commands = rows.flatMap((r: { member_id: string }, i: number): CommandMessage[] => {
    const c: CommandMessage = {
      commandId: `redeem-${i}`,
      correlationId: `redeem-${i}`,
      type: 'RedeemPoints',
      data: { memberId: r.member_id, idempotencyKey: `k-${i}`, rewardId: 'coffee' },
      origin: { source: 'api' },
    };
    return [c, c];
  });
  const producer = stack.kafka.producer();
  await producer.connect();
  await producer.send({ topic: stack.topics.commands, messages: commands.map((c) => ({ key: c.data.memberId, value: JSON.stringify(c) })) });
  await producer.disconnect();
}

it('given a Redis read model that lost its data, when events keep coming, then the projector rebuilds it from the events', async () => {
  const keys = await stack.redis.keys(`${stack.redisPrefix}*`);
  expect(keys.length).toBeGreaterThan(0);
  await stack.redis.del(...keys);
  await publishTraffic(stack, { purchases: 2_000, members: 500, seed: 12 });
  await waitCaughtUp(stack, 180);
  const verify = await runOps(stack, ['verify']);
  expect(verify.stdout).toMatch(/no differences/);
  expect(verify.code).toBe(0);
  const redeemed = await stack.pool.query(`SELECT count(*)::int AS n FROM ${stack.schema}.redemptions`);
  expect(redeemed.rows[0].n).toBe(20); // each retry counted once
}, 300_000);
