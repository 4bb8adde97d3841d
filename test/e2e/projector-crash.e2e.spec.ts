// Kill -9 a projector in the middle of its batches, start it again: both read models
// equal a fold of the events exactly (no gap, no double), checked by `loyalty verify`.
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
