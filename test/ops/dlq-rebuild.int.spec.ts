// loyalty dlq list / redrive and rebuild-ledger-state against the running ledger.
import { createStack, eventually, type Stack } from '../support/stack';
import { runOps, waitCaughtUp } from './support';

let stack: Stack;
let ledger: import('node:child_process').ChildProcess;

beforeAll(async () => {
  stack = await createStack({ partitions: 2 });
  [ledger] = await Promise.all([stack.start('ledger'), stack.start('projector')]);
});

afterAll(async () => {
  await stack?.teardown();
});

const now = () => new Date().toISOString();

async function publish(messages: { key: string; value: string }[]) {
  const producer = stack.kafka.producer();
  await producer.connect();
  await producer.send({ topic: stack.topics.purchases, messages });
  await producer.disconnect();
}

describe('loyalty dlq', () => {
  it('lists dead letters with their reasons, re-drives a refund that overtook its purchase once, never twice', async () => {
    const memberId = `dlq-${stack.id}`;
    const refund = JSON.stringify({ kind: 'refund', refundId: 'r1', purchaseId: `${memberId}-p1`, memberId, amount: 500, currency: 'USD', occurredAt: now() });
    await publish([
      { key: memberId, value: refund },
      { key: memberId, value: 'not json at all' },
    ]);
    const listed = await eventually(() => runOps(stack, ['dlq', 'list']), (r) => /^2 dead letter/.test(r.stdout));
    expect(listed.stdout).toMatch(/unknown-purchase/);
    expect(listed.stdout).toMatch(/not-json/);
    expect(listed.stdout).toContain('not json at all');

    await publish([{ key: memberId, value: JSON.stringify({ purchaseId: `${memberId}-p1`, memberId, amount: 1000, currency: 'USD', occurredAt: now() }) }]);
    await waitCaughtUp(stack);
    const dry = await runOps(stack, ['dlq', 'redrive', '--reason', 'unknown-purchase', '--dry-run']);
    expect(dry.stdout).toMatch(/would re-drive 1 dead letter/);
    const r1 = await runOps(stack, ['dlq', 'redrive', '--reason', 'unknown-purchase']);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toMatch(/re-drove 1 dead letter/);
    const r2 = await runOps(stack, ['dlq', 'redrive', '--reason', 'unknown-purchase']);
    expect(r2.stdout).toMatch(/nothing to re-drive: 0 .*\(1 already re-driven\)/);
    await waitCaughtUp(stack);
    const row = await eventually(
      () => stack.pool.query(`SELECT refund_count::int AS n FROM loyalty.member_balances WHERE member_id = $1`, [memberId]),
      (r) => r.rows[0]?.n === 1,
    );
    expect(row.rows[0].n).toBe(1);
    expect((await runOps(stack, ['dlq', 'list'])).stdout).toMatch(/\[re-driven\]/);
  });
});

describe('loyalty rebuild-ledger-state', () => {
  it('refuses while the ledger runs; rebuilt, the ledger decides on the rebuilt states', async () => {
    const running = await runOps(stack, ['rebuild-ledger-state']);
    expect(running.code).toBe(1);
    expect(running.stderr).toMatch(/the ledger is running/);

    await stack.stop(ledger);
    const memberId = `dlq-${stack.id}`;
    // Wait for the group to have no members (the stop leaves it).
    const rebuilt = await eventually(() => runOps(stack, ['rebuild-ledger-state']), (r) => r.code === 0, 30000);
    expect(rebuilt.stdout).toMatch(/wrote \d+ member states/);
    ledger = await stack.start('ledger');
    await publish([{ key: memberId, value: JSON.stringify({ purchaseId: `${memberId}-p1`, memberId, amount: 1000, currency: 'USD', occurredAt: now() }) }]);
    await publish([{ key: memberId, value: JSON.stringify({ purchaseId: `${memberId}-p2`, memberId, amount: 2000, currency: 'USD', occurredAt: now() }) }]);
    await waitCaughtUp(stack);
    // p1 again is a duplicate for the rebuilt state (no second PurchaseMade); p2 is new.
    const { rows } = await stack.pool.query(`SELECT purchase_count::int AS n FROM loyalty.member_balances WHERE member_id = $1`, [memberId]);
    expect(rows[0].n).toBe(2);
    const v = await runOps(stack, ['verify']);
    expect(v.code).toBe(0);
  });
});
