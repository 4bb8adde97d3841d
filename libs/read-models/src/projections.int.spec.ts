// Given envelopes, when applied in batches (with re-deliveries and overlaps), then
// the Postgres rows and the Redis keys are exactly what a plain fold of the events says.
import { applyPostgresBatch } from './postgres/postgres.projection';
import { getPostgresBalance, getPostgresOffsets, getStatement, getAnalyticsSummary } from './postgres/queries';
import { applyRedisBatch } from './redis/redis.projection';
import { getLeaderboard, getLeaderboardRank, getRedisBalance, getRedisOffsets, RedisProjectionNotReadyError } from './redis/queries';
import { batches, History, referenceFold } from './testing/envelopes';
import { generateHistory } from './testing/generator';
import { Harness, openHarness } from './testing/harness';
import type { PartitionEvent } from './projection/events';

const TOPIC = 'loyalty.events';
let h: Harness;

beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h?.close();
});

const pg = (partition: number, events: readonly PartitionEvent[], projection = 'postgres') =>
  applyPostgresBatch(h.client, { projection, topic: TOPIC, partition, events }, { schema: h.schema });

async function tableCounts(): Promise<Record<string, string>> {
  const { rows } = await h.client.query(`SELECT
    (SELECT count(*) FROM loyalty.ledger_entries) AS ledger,
    (SELECT count(*) FROM loyalty.member_balances) AS members,
    (SELECT count(*) FROM loyalty.points_lots) AS lots,
    (SELECT count(*) FROM loyalty.purchases) AS purchases,
    (SELECT count(*) FROM loyalty.redemptions) AS redemptions,
    (SELECT count(*) FROM loyalty.tier_history) AS tiers,
    (SELECT COALESCE(sum(available), 0) FROM loyalty.member_balances) AS available,
    (SELECT COALESCE(sum(purchases + revenue + points_issued + new_members), 0) FROM loyalty.daily_stats) AS daily,
    (SELECT COALESCE(sum(purchases + revenue), 0) FROM loyalty.member_months) AS months`);
  return rows[0];
}

describe('Postgres projection: exactly once by offset', () => {
  const hist = new History(7);
  const at = '2025-03-01T10:00:00.000Z';
  hist.enrol('dup-1', at);
  hist.purchase('dup-1', 'p1', 12_345, at);
  hist.enrol('dup-2', at);
  hist.purchase('dup-2', 'p2', 5_000, at);
  hist.add('dup-2', 'PurchaseRefunded', { refundId: 'r1', purchaseId: 'p2', amount: 2_500 }, at);
  hist.add('dup-2', 'PointsReversed', { points: 25, purchaseId: 'p2', refundId: 'r1', programVersion: 't', lots: [] }, at);
  hist.purchase('dup-1', 'p3', 800, '2025-03-02T10:00:00.000Z');

  it('given a batch applied, when the same batch is applied again, then nothing changes', async () => {
    const first = await pg(7, hist.slice(0, 5));
    expect(first).toMatchObject({ applied: 5, skipped: 0, nextOffset: '5' });
    const before = await tableCounts();
    const again = await pg(7, hist.slice(0, 5));
    expect(again).toMatchObject({ applied: 0, skipped: 5, nextOffset: '5' });
    expect(await tableCounts()).toEqual(before);
  });

  it('given a stored offset, when a batch overlaps it, then only the new part is applied', async () => {
    const r = await pg(7, hist.slice(2));
    expect(r).toMatchObject({ applied: hist.events.length - 5, skipped: 3, nextOffset: String(hist.events.length) });
    const b1 = await getPostgresBalance(h.client, { schema: h.schema, memberId: 'dup-1' });
    expect(b1).toMatchObject({ available: 123 + 8, lifetimeEarned: 131, sequence: 5, tier: 'Member' });
    const b2 = await getPostgresBalance(h.client, { schema: h.schema, memberId: 'dup-2' });
    expect(b2).toMatchObject({ available: 25, lifetimeEarned: 50, lifetimeReversed: 25, sequence: 5 });
    const { rows } = await h.client.query(`SELECT spend, purchase_count FROM loyalty.member_balances WHERE member_id = 'dup-2'`);
    expect(rows[0]).toEqual({ spend: '2500', purchase_count: '1' });
    const p = await h.client.query(`SELECT refunded, points_earned, points_reversed FROM loyalty.purchases WHERE purchase_id = 'p2'`);
    expect(p.rows[0]).toEqual({ refunded: '2500', points_earned: '50', points_reversed: '25' });
    expect(await getPostgresOffsets(h.client, { schema: h.schema, projection: 'postgres', topic: TOPIC })).toEqual([
      expect.objectContaining({ partition: 7, nextOffset: String(hist.events.length) }),
    ]);
  });

  it('given a batch that fails half-way, then neither rows nor offset move', async () => {
    const before = await tableCounts();
    const bad = new History(8);
    bad.enrol('boom', at);
    const evil = { ...bad.events[0], offset: '1', envelope: { ...bad.events[0].envelope, sequence: 2, eventId: 'x', type: 'NoSuchEvent' } } as unknown as PartitionEvent;
    await expect(pg(8, [bad.events[0], evil])).rejects.toThrow(/unknown/);
    expect(await tableCounts()).toEqual(before);
    expect((await getPostgresOffsets(h.client, { schema: h.schema, projection: 'postgres', topic: TOPIC })).map((o) => o.partition)).toEqual([7]);

    // A failure in a LATER statement (the lots insert, after ledger and balances were written): all rolled back.
    const late = new History(7);
    const lotId = (await h.client.query(`SELECT lot_id FROM loyalty.points_lots WHERE member_id = 'dup-1' LIMIT 1`)).rows[0].lot_id;
    for (let i = 0; i < 5; i++) late.add('dup-1', 'TierChanged', { from: 'Member', to: 'Member', reason: 'review' }, at); // sequences 1..5, replaced below
    const reuse = { offset: String(hist.events.length), envelope: { ...late.events[0].envelope, sequence: 6, eventId: 'late-1', type: 'PointsEarned',
      data: { points: 5, cause: 'promotion', lotId, expiresAt: at, programVersion: 't' } } } as unknown as PartitionEvent;
    await expect(pg(7, [reuse])).rejects.toThrow(/duplicate key/);
    expect(await tableCounts()).toEqual(before);
    expect((await getPostgresOffsets(h.client, { schema: h.schema, projection: 'postgres', topic: TOPIC }))[0].nextOffset).toBe(String(hist.events.length));
  });

  it('statement: newest first, balance after each entry, keyset pages on sequence', async () => {
    const page1 = await getStatement(h.client, { schema: h.schema, memberId: 'dup-1', limit: 3 });
    expect(page1.entries.map((e) => [e.sequence, e.type, e.pointsDelta, e.balanceAfter])).toEqual([
      [5, 'PointsEarned', 8, 131],
      [4, 'PurchaseMade', 0, 123],
      [3, 'PointsEarned', 123, 123],
    ]);
    expect(page1.nextBefore).toBe(3);
    const page2 = await getStatement(h.client, { schema: h.schema, memberId: 'dup-1', limit: 3, before: page1.nextBefore });
    expect(page2.entries.map((e) => e.sequence)).toEqual([2, 1]);
    expect(page2.nextBefore).toBeNull();
    const points = await getStatement(h.client, { schema: h.schema, memberId: 'dup-1', pointsOnly: true });
    expect(points.entries.map((e) => e.sequence)).toEqual([5, 3]);
  });
});

describe('both projections agree with a plain fold of the events, for every member', () => {
  const parts = [0, 1, 2].map((p) => generateHistory({ members: 120, events: 2_500, seed: 11 + p, partition: p, memberPrefix: `p${p}-` }));

  it('after random batch sizes, re-deliveries and overlaps', async () => {
    let seed = 5;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (const hist of parts) {
      const evs = hist.events;
      let i = 0;
      while (i < evs.length) {
        const size = 1 + rnd(400);
        const from = Math.max(0, i - rnd(3) * rnd(50)); // sometimes overlap what was applied
        const batch = evs.slice(from, i + size);
        const a = await pg(hist.partition, batch, 'agree');
        const b = await applyRedisBatch(h.redis, { prefix: h.prefix, partition: hist.partition, events: batch });
        expect(b.status).toBe('applied');
        expect(a.applied).toBe(Math.min(i + size, evs.length) - i);
        if (rnd(4) === 0) {
          // an exact re-delivery
          expect((await pg(hist.partition, batch, 'agree')).applied).toBe(0);
          expect((await applyRedisBatch(h.redis, { prefix: h.prefix, partition: hist.partition, events: batch })).status).toBe('duplicate');
        }
        i = Math.min(i + size, evs.length);
      }
    }

    const ref = referenceFold(parts.flatMap((p) => p.events.map((e) => e.envelope)));
    const { rows } = await h.client.query(`SELECT member_id, available, lifetime_earned, lifetime_redeemed, lifetime_expired, lifetime_reversed,
        lifetime_adjusted, tier, sequence, spend, purchase_count FROM loyalty.member_balances WHERE member_id LIKE 'p_-%'`);
    expect(rows.length).toBe(ref.balances.size);
    for (const r of rows) {
      const want = ref.balances.get(r.member_id)!;
      const got = {
        available: Number(r.available), lifetimeEarned: Number(r.lifetime_earned), lifetimeRedeemed: Number(r.lifetime_redeemed),
        lifetimeExpired: Number(r.lifetime_expired), lifetimeReversed: Number(r.lifetime_reversed), lifetimeAdjusted: Number(r.lifetime_adjusted),
        tier: r.tier, sequence: Number(r.sequence), spend: Number(r.spend), purchaseCount: Number(r.purchase_count),
      };
      expect(got).toEqual(want);
      const { spend: _s, purchaseCount: _p, ...balance } = want;
      expect(await getRedisBalance(h.redis, { prefix: h.prefix, memberId: r.member_id })).toEqual({ memberId: r.member_id, ...balance });
    }

    // Every statement's last balance_after is the balance; entries are gap-free.
    const chk = await h.client.query(`SELECT count(*) AS bad FROM (
        SELECT l.member_id FROM loyalty.ledger_entries l JOIN loyalty.member_balances b USING (member_id)
        WHERE l.member_id LIKE 'p_-%' GROUP BY l.member_id, b.available, b.sequence
        HAVING max(l.sequence) <> b.sequence OR count(*) <> b.sequence
            OR (array_agg(l.balance_after ORDER BY l.sequence DESC))[1] <> b.available) x`);
    expect(chk.rows[0].bad).toBe('0');
    const sums = await h.client.query(`SELECT (SELECT sum(points_delta) FROM loyalty.ledger_entries WHERE member_id LIKE 'p_-%') AS deltas,
      (SELECT sum(available) FROM loyalty.member_balances WHERE member_id LIKE 'p_-%') AS available,
      (SELECT sum(GREATEST(available, 0)) FROM loyalty.member_balances WHERE member_id LIKE 'p_-%') AS outstanding,
      (SELECT sum(remaining) FROM loyalty.points_lots WHERE member_id LIKE 'p_-%') AS lots,
      (SELECT count(*) FROM loyalty.points_lots WHERE remaining < 0) AS negative_lots`);
    expect(sums.rows[0].deltas).toBe(sums.rows[0].available);
    expect(sums.rows[0].lots).toBe(sums.rows[0].outstanding);
    expect(sums.rows[0].negative_lots).toBe('0');

    // Leaderboards equal the fold, ordered by score desc then memberId asc.
    for (const [k, scores] of ref.boards) {
      const [board, period] = k.split(':');
      const want = [...scores].filter(([, s]) => s !== 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      const got = await getLeaderboard(h.redis, { prefix: h.prefix, board, period, limit: 1000 });
      expect(got.filter((e) => e.score !== 0).map((e) => [e.memberId, e.score])).toEqual(want.slice(0, 1000));
    }

    // Offsets of both stores are at the heads.
    const pgOffsets = await getPostgresOffsets(h.client, { schema: h.schema, projection: 'agree', topic: TOPIC });
    const redisOffsets = await getRedisOffsets(h.redis, { prefix: h.prefix });
    const heads = parts.map((p) => ({ partition: p.partition, nextOffset: String(p.events.length) }));
    expect(pgOffsets.map(({ partition, nextOffset }) => ({ partition, nextOffset }))).toEqual(heads);
    expect(redisOffsets.ready).toBe(true);
    expect(redisOffsets.offsets).toEqual(heads);

    const summary = await getAnalyticsSummary(h.client, { schema: h.schema });
    expect(summary.lotsOutstanding).toBeGreaterThan(0);
  });
});

describe('Redis projection', () => {
  it('leaderboard: equal scores rank by memberId ascending, highest score first', async () => {
    const prefix = `${h.prefix}ties:`;
    const hist = new History(0);
    const at = '2025-05-10T12:00:00.000Z';
    for (const id of ['m-b', 'm-c', 'm-a', 'm-z', 'm-y']) hist.enrol(id, at, { tier: 'Member' });
    hist.earn('m-b', 100, at);
    hist.earn('m-c', 100, at);
    hist.earn('m-a', 100, at);
    hist.earn('m-z', 300, at);
    hist.earn('m-y', 250, at);
    hist.add('m-y', 'PointsReversed', { points: 150, purchaseId: 'x', refundId: 'y', programVersion: 't', lots: [] }, at);
    expect((await applyRedisBatch(h.redis, { prefix, partition: 0, events: hist.events })).status).toBe('applied');
    const top = await getLeaderboard(h.redis, { prefix, board: 'points', period: 'all', limit: 10 });
    expect(top).toEqual([
      { rank: 1, memberId: 'm-z', score: 300 },
      { rank: 2, memberId: 'm-a', score: 100 },
      { rank: 3, memberId: 'm-b', score: 100 },
      { rank: 4, memberId: 'm-c', score: 100 },
      { rank: 5, memberId: 'm-y', score: 100 },
    ]);
    expect(await getLeaderboard(h.redis, { prefix, board: 'points', period: '2025-05', limit: 2 })).toEqual(top.slice(0, 2));
    expect(await getLeaderboardRank(h.redis, { prefix, board: 'points', period: 'all', memberId: 'm-c' })).toEqual({ rank: 4, memberId: 'm-c', score: 100 });
    expect(await getLeaderboardRank(h.redis, { prefix, board: 'points', period: '2025-04', memberId: 'm-c' })).toBeNull();
    expect(await getLeaderboard(h.redis, { prefix, board: 'spend', period: 'all' })).toEqual([]);
    await expect(getLeaderboard(h.redis, { prefix, board: 'nope', period: 'all' })).rejects.toThrow(RangeError);
  });

  it('a Redis that lost its data is detected, refuses newer batches, and is rebuilt from offset 0', async () => {
    const prefix = `${h.prefix}flush:`;
    const hist = generateHistory({ members: 20, events: 300, seed: 99 });
    expect((await applyRedisBatch(h.redis, { prefix, partition: 0, events: hist.slice(0, 150) })).status).toBe('applied');
    const epoch1 = (await getRedisOffsets(h.redis, { prefix })).epoch;
    expect(epoch1).toEqual(expect.any(String));

    // The flush: every key of this store is gone.
    const keys = await h.redis.keys(`${prefix}*`);
    await h.redis.del(...keys);

    await expect(getRedisBalance(h.redis, { prefix, memberId: 'm000000' })).rejects.toBeInstanceOf(RedisProjectionNotReadyError);
    expect((await getRedisOffsets(h.redis, { prefix })).ready).toBe(false);
    const refused = await applyRedisBatch(h.redis, { prefix, partition: 0, events: hist.slice(150) });
    expect(refused).toMatchObject({ status: 'reset-needed', applied: 0 });
    expect(await h.redis.keys(`${prefix}*`)).toEqual([]);

    // The projector re-reads the partition from offset 0.
    for (const b of batches(hist.events, 64)) {
      expect((await applyRedisBatch(h.redis, { prefix, partition: 0, events: b })).status).toBe('applied');
    }
    const after = await getRedisOffsets(h.redis, { prefix });
    expect(after.ready).toBe(true);
    expect(after.epoch).not.toBe(epoch1);
    const ref = referenceFold(hist.events.map((e) => e.envelope));
    for (const [memberId, want] of ref.balances) {
      const { spend: _s, purchaseCount: _p, ...balance } = want;
      expect(await getRedisBalance(h.redis, { prefix, memberId })).toEqual({ memberId, ...balance });
    }
  });

  it('a batch touching more members than one chunk of the script (2,000) equals the fold, and large scores stay exact', async () => {
    const prefix = `${h.prefix}chunks:`;
    const hist = generateHistory({ members: 4_500, events: 36_000, seed: 7, memberPrefix: 'c-' });
    const at = '2025-06-01T00:00:00.000Z';
    // Spend of 123,456,789,012,345 minor units: more digits than Lua's default number format keeps.
    hist.enrol('c-big', at);
    for (let k = 0; k < 3; k++) hist.add('c-big', 'PurchaseMade', { purchaseId: `big-${k}`, amount: 41_152_263_004_115, currency: 'USD', occurredAt: at, recordedAt: at }, at);
    const evs = hist.events;
    for (const b of [evs.slice(0, 30_000), evs.slice(30_000)]) {
      expect((await applyRedisBatch(h.redis, { prefix, partition: 0, events: b })).status).toBe('applied');
    }
    const ref = referenceFold(evs.map((e) => e.envelope));
    expect(ref.balances.size).toBeGreaterThan(4_000);
    for (const [memberId, want] of ref.balances) {
      const { spend: _s, purchaseCount: _p, ...balance } = want;
      expect(await getRedisBalance(h.redis, { prefix, memberId })).toEqual({ memberId, ...balance });
    }
    for (const [k, scores] of ref.boards) {
      const [board, period] = k.split(':');
      const want = [...scores].filter(([, s]) => s !== 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      const got = await getLeaderboard(h.redis, { prefix, board, period, limit: 1000 });
      expect(got.filter((e) => e.score !== 0).map((e) => [e.memberId, e.score])).toEqual(want.slice(0, 1000));
      const card = await h.redis.zcard(`${prefix}lb:${k}`);
      expect(card).toBe(scores.size);
    }
    expect(await getLeaderboardRank(h.redis, { prefix, board: 'spend', period: 'all', memberId: 'c-big' })).toEqual({ rank: 1, memberId: 'c-big', score: 123_456_789_012_345 });
  });

  it('a first batch that starts after offset 0 is accepted only when the caller says it starts the partition', async () => {
    const prefix = `${h.prefix}start:`;
    const hist = new History(3);
    hist.enrol('s-1', '2025-01-01T00:00:00.000Z');
    const shifted = hist.events.map((e) => ({ ...e, offset: '2' })); // offsets 0-1 were an aborted transaction
    expect((await applyRedisBatch(h.redis, { prefix, partition: 3, events: shifted })).status).toBe('reset-needed');
    expect(await applyRedisBatch(h.redis, { prefix, partition: 3, events: shifted, fromBeginning: true })).toMatchObject({ status: 'applied', nextOffset: '3' });
  });
});
