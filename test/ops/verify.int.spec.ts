// loyalty verify against the real pipeline: passes on an untouched stack (also while
// purchases are flowing: it compares at the stores' own offsets), and names the member,
// field, expected and stored values of a tampered row, exiting non-zero.
import { createStack, type Stack } from '../support/stack';
import { publishTraffic, runOps, sleep, waitCaughtUp } from './support';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack();
  await Promise.all([stack.start('ledger'), stack.start('projector')]);
  await publishTraffic(stack, { purchases: 1500, members: 150, seed: 7 });
  await waitCaughtUp(stack);
});

afterAll(async () => {
  await stack?.teardown();
});

describe('loyalty lag', () => {
  it('given a caught-up pipeline, then every stage shows every partition with its committed offset, head and lag; --summary a line a stage', async () => {
    const r = await runOps(stack, ['lag']);
    expect(r.code).toBe(0);
    const stages = r.stdout.split('\n').filter((l) => /^\S/.test(l));
    expect(stages.map((l) => l.split(/\s+/)[0])).toEqual(['ingest', 'ledger', 'postgres', 'redis']);
    const partitions = r.stdout.split('\n').filter((l) => /^\s+partition \d+: committed \d+ head \d+ lag 0$/.test(l));
    expect(partitions).toHaveLength(4 * stack.partitions);
    const summary = await runOps(stack, ['lag', '--summary']);
    expect(summary.stdout.trim().split('\n')).toHaveLength(4);
  });
});

describe('loyalty verify', () => {
  it('given untouched read models, when purchases keep flowing, then verify finds no difference', async () => {
    const flowing = publishTraffic(stack, { purchases: 3000, members: 300, seed: 8 });
    const during = await runOps(stack, ['verify']);
    await flowing;
    expect(during.stdout).toMatch(/no differences/);
    expect(during.code).toBe(0);
    await waitCaughtUp(stack);
    const after = await runOps(stack, ['verify']);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/folded \d+ events of \d+ members/);
  });

  it('given a tampered Postgres row and a tampered Redis hash, then verify prints both and exits non-zero', async () => {
    const { rows } = await stack.pool.query(`SELECT member_id, available::int AS available FROM ${stack.schema}.member_balances ORDER BY member_id LIMIT 2`);
    const [a, b] = rows;
    await stack.pool.query(`UPDATE ${stack.schema}.member_balances SET available = available + 7 WHERE member_id = $1`, [a.member_id]);
    await stack.redis.hset(`${stack.redisPrefix}bal:${b.member_id}`, 'tier', 'Bogus');
    const r = await runOps(stack, ['verify']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    const pgLine = lines.find((l) => l.startsWith(a.member_id) && /\bavailable\b/.test(l));
    expect(pgLine?.split(/\s+/)).toEqual([a.member_id, 'available', String(a.available), String(a.available + 7), '=']);
    const redisLine = lines.find((l) => l.startsWith(b.member_id) && /\btier\b/.test(l));
    expect(redisLine?.split(/\s+/).slice(1)).toEqual(['tier', expect.any(String), '=', 'Bogus']);
    // Repair, so later suites in this file start clean.
    await stack.pool.query(`UPDATE ${stack.schema}.member_balances SET available = available - 7 WHERE member_id = $1`, [a.member_id]);
  });

  it('given a moment captured from the live read model, when replayed --until that moment, then the snapshot equals it', async () => {
    await waitCaughtUp(stack);
    const cols = `member_id, available, lifetime_earned, lifetime_redeemed, lifetime_expired, lifetime_reversed, lifetime_adjusted, tier,
      purchase_count, refund_count, redemption_count, spend, first_purchase_at, last_purchase_at, sequence, enrolled_at, referrals`;
    const captured = (await stack.pool.query(`SELECT ${cols} FROM ${stack.schema}.member_balances ORDER BY member_id`)).rows;
    const until = new Date().toISOString();
    await sleep(1200);
    await publishTraffic(stack, { purchases: 1000, members: 400, seed: 9 });
    await waitCaughtUp(stack);
    const r = await runOps(stack, ['replay', '--until', until]);
    expect(r.code).toBe(0);
    const name = `snapshot_${until.replace(/\D/g, '').slice(0, 12)}`;
    expect(r.stdout).toContain(`snapshot ${name}`);
    const snap = (await stack.pool.query(`SELECT ${cols} FROM ${name}.member_balances ORDER BY member_id`)).rows;
    expect(snap.length).toBeGreaterThan(0);
    expect(snap).toEqual(captured);
    const live = (await stack.pool.query(`SELECT count(*)::int AS n FROM ${stack.schema}.member_balances`)).rows[0].n;
    expect(live).toBeGreaterThan(snap.length); // the later members are not in the snapshot
    const again = await runOps(stack, ['replay', '--until', until]);
    expect(again.stdout).toMatch(/already exists/);
  });
});
