// Analytics figures against values computed by hand for a small fixed history,
// and the analyst role's boundaries.
import { applyPostgresBatch } from './postgres/postgres.projection';
import {
  getAnalyticsDaily,
  getAnalyticsSummary,
  getChannelPerformance,
  getCohorts,
  getRedemptionRate,
  getRepeatPurchaseRate,
  getSegments,
  getTierDistribution,
  getExpiringLots,
} from './postgres/queries';
import { Client } from 'pg';
import { ANALYST_ROLE, swapSchemas } from './postgres/analytics';
import { migrate } from './postgres/migrate';
import { History } from './testing/envelopes';
import { Harness, openHarness } from './testing/harness';

let h: Harness;
const AS_OF = '2025-04-15T00:00:00.000Z';

// A enrolled 2025-01-05: purchases 01-10 10000, 02-10 5000, 03-10 5000; redeems 100 on 03-20
// B enrolled 2025-01-20: purchase 01-25 2000; refund 1000 on 02-01 (reverses 10 points)
// C enrolled 2025-02-03: purchases 02-05 30000 (-> Silver), 04-01 10000
// D enrolled 2025-02-10: no purchase
// E enrolled 2025-03-01: purchase 03-02 500
// F enrolled 2025-03-15: purchases 04-10 8000, 04-12 2000 (both online; all others in store)
function fixedHistory(): History {
  const x = new History(0);
  const d = (s: string) => `${s}T12:00:00.000Z`;
  x.enrol('A', d('2025-01-05'));
  x.enrol('B', d('2025-01-20'));
  const lotA = x.purchase('A', 'A1', 10_000, d('2025-01-10'))!;
  x.purchase('B', 'B1', 2_000, d('2025-01-25'));
  x.add('B', 'PurchaseRefunded', { refundId: 'B1r', purchaseId: 'B1', amount: 1_000 }, d('2025-02-01'));
  x.add('B', 'PointsReversed', { points: 10, purchaseId: 'B1', refundId: 'B1r', programVersion: 't', lots: [] }, d('2025-02-01'));
  x.enrol('C', d('2025-02-03'));
  x.purchase('C', 'C1', 30_000, d('2025-02-05'));
  x.add('C', 'TierChanged', { from: 'Member', to: 'Silver', reason: 'upgrade' }, d('2025-02-05'));
  x.purchase('A', 'A2', 5_000, d('2025-02-10'));
  x.enrol('D', d('2025-02-10'));
  x.enrol('E', d('2025-03-01'));
  x.purchase('E', 'E1', 500, d('2025-03-02'));
  x.purchase('A', 'A3', 5_000, d('2025-03-10'));
  x.enrol('F', d('2025-03-15'));
  x.add('A', 'RewardRedeemed', { redemptionId: 'A-x1', rewardId: 'coffee', points: 100, lots: [{ lotId: lotA, points: 100 }] }, d('2025-03-20'));
  x.purchase('C', 'C2', 10_000, d('2025-04-01'));
  x.purchase('F', 'F1', 8_000, d('2025-04-10'), 80, 'online');
  x.purchase('F', 'F2', 2_000, d('2025-04-12'), 20, 'online');
  return x;
}

beforeAll(async () => {
  h = await openHarness();
  const x = fixedHistory();
  // Two batches, to cross a batch boundary in the aggregates.
  await applyPostgresBatch(h.client, { projection: 'postgres', topic: 't', partition: 0, events: x.slice(0, 9) }, { schema: h.schema });
  await applyPostgresBatch(h.client, { projection: 'postgres', topic: 't', partition: 0, events: x.slice(9) }, { schema: h.schema });
});
afterAll(async () => {
  await h?.close();
});

const q = () => ({ schema: h.schema });

it('summary: members, active members, points and liability', async () => {
  const s = await getAnalyticsSummary(h.client, { ...q(), asOf: AS_OF, pointValueMinor: 0.5 });
  // issued: A 100+50+50, B 20, C 300+100, E 5, F 80+20 = 725; outstanding A 100, B 10, C 400, E 5, F 100 = 615
  expect(s).toMatchObject({
    members: 6, activeMembers: 5, pointsIssued: 725, pointsRedeemed: 100, pointsExpired: 0, pointsReversed: 10,
    pointsOutstanding: 615, lotsOutstanding: 625, liability: { minorUnits: 307, pointValueMinor: 0.5 },
  });
  // (lots: B's reversal took no lot in this hand-written history, so lots show 10 more than balances)
  expect((await getAnalyticsSummary(h.client, { ...q(), asOf: AS_OF, activeDays: 30 })).activeMembers).toBe(2); // C, F
});

it('daily: per UTC day, zeros for quiet days', async () => {
  const days = await getAnalyticsDaily(h.client, { ...q(), from: '2025-01-31', to: '2025-02-03' });
  expect(days.map((d) => d.day)).toEqual(['2025-01-31', '2025-02-01', '2025-02-02', '2025-02-03']);
  expect(days[0]).toMatchObject({ purchases: 0, revenue: 0, newMembers: 0 });
  expect(days[1]).toMatchObject({ purchases: 0, refunds: 1, refunded: 1000, netRevenue: -1000, pointsReversed: 10 });
  expect(days[3]).toMatchObject({ newMembers: 1 });
  const jan10 = await getAnalyticsDaily(h.client, { ...q(), from: '2025-01-10', to: '2025-01-10' });
  expect(jan10[0]).toMatchObject({ purchases: 1, revenue: 10_000, pointsIssued: 100 });
  const { rows } = await h.client.query(`SELECT sum(revenue)::int AS revenue, sum(new_members)::int AS members FROM analytics.daily_points`);
  expect(rows[0]).toEqual({ revenue: 72_500, members: 6 });
});

it('tiers', async () => {
  expect(await getTierDistribution(h.client, q())).toEqual([{ tier: 'Member', members: 5 }, { tier: 'Silver', members: 1 }]);
  expect(await getTierDistribution(h.client, { ...q(), tiers: ['Member', 'Silver', 'Gold', 'Platinum'] })).toEqual([
    { tier: 'Member', members: 5 },
    { tier: 'Silver', members: 1 },
    { tier: 'Gold', members: 0 },
    { tier: 'Platinum', members: 0 },
  ]);
});

it('cohorts: monthly enrolment cohorts and the share purchasing in each later month', async () => {
  const c = await getCohorts(h.client, { ...q(), asOf: AS_OF });
  const view = c.map((x) => [x.cohort, x.size, x.months.map((m) => [m.monthsSince, m.activeMembers, m.retention])]);
  expect(view).toEqual([
    ['2025-01', 2, [[0, 2, 1], [1, 1, 0.5], [2, 1, 0.5], [3, 0, 0]]],
    ['2025-02', 2, [[0, 1, 0.5], [1, 0, 0], [2, 1, 0.5]]],
    ['2025-03', 2, [[0, 1, 0.5], [1, 1, 0.5]]],
  ]);
});

it('segments: RFM quintiles and the revenue share of the top 20 %', async () => {
  const s = await getSegments(h.client, { ...q(), asOf: AS_OF });
  // R: B1 E2 A3 C4 F5; F: B1 E1 C3 F3 A5 -> A loyal, C loyal, F loyal, B lost, E hibernating
  expect(s.segments.filter((x) => x.members > 0)).toEqual([
    { segment: 'loyal', members: 3, revenue: 70_000, revenueShare: 0.979021 },
    { segment: 'hibernating', members: 1, revenue: 500, revenueShare: 0.006993 },
    { segment: 'lost', members: 1, revenue: 1_000, revenueShare: 0.013986 },
  ]);
  expect(s.top20).toEqual({ purchasers: 5, topMembers: 1, topRevenue: 40_000, totalRevenue: 71_500, share: 0.559441 });
  const { rows } = await h.client.query(`SELECT member_id, r, f, m, segment FROM analytics.rfm_members ORDER BY member_id`);
  expect(rows.map((r) => [r.member_id, r.r, r.f, r.m])).toEqual([['A', 3, 5, 4], ['B', 1, 1, 2], ['C', 4, 3, 5], ['E', 2, 1, 1], ['F', 5, 3, 3]]);
});

it('repeat-purchase and redemption rates', async () => {
  expect(await getRepeatPurchaseRate(h.client, q())).toEqual({ purchasers: 5, repeatPurchasers: 3, rate: 0.6 });
  expect(await getRedemptionRate(h.client, q())).toEqual({
    members: 6, redeemers: 1, memberRate: 0.166667, pointsIssued: 725, pointsRedeemed: 100, pointsRate: 0.137931,
  });
});

it('channels: purchases, purchasers, revenue net of refunds, average basket, points net of reversals', async () => {
  // store: A1 10000, B1 2000 (1000 refunded, 10 points reversed), C1 30000, A2 5000, E1 500, A3 5000, C2 10000
  //   -> 7 purchases by A, B, C, E; 62500 gross, 61500 net, 61500 / 7 = 8785.7 -> 8786; points 625 - 10 = 615
  // online: F1 8000, F2 2000 -> 2 purchases by F; 10000 net, basket 5000, points 100
  // shares of the 71500 net: 0.860140 and 0.139860
  expect(await getChannelPerformance(h.client, q())).toEqual([
    { channel: 'store', purchases: 7, purchasers: 4, revenue: 62_500, refunded: 1_000, netRevenue: 61_500, avgNetBasket: 8_786, pointsEarned: 615, revenueShare: 0.86014 },
    { channel: 'online', purchases: 2, purchasers: 1, revenue: 10_000, refunded: 0, netRevenue: 10_000, avgNetBasket: 5_000, pointsEarned: 100, revenueShare: 0.13986 },
  ]);
  const { rows } = await h.client.query(`SELECT channel, purchases FROM analytics.channel_performance ORDER BY channel`);
  expect(rows).toEqual([{ channel: 'online', purchases: '2' }, { channel: 'store', purchases: '7' }]);
});

it('expiring lots for the scheduler', async () => {
  // Lots expire 365 days after earning: A1 (2026-01-10) is spent, B1 (2026-01-25) and C1 (2026-02-05) are due.
  const lots = await getExpiringLots(h.client, { ...q(), asOf: '2026-02-06T00:00:00.000Z' });
  expect(lots.map((l) => [l.memberId, l.remaining])).toEqual([['B', 20], ['C', 300]]);
});

describe('analytics schema and the analyst role', () => {
  it('has the documented views with the contract columns', async () => {
    const { rows } = await h.client.query(`SELECT table_name FROM information_schema.views WHERE table_schema = 'analytics' ORDER BY 1`);
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['member_balances', 'ledger_entries', 'daily_points', 'tier_distribution', 'cohort_retention', 'rfm_segments']));
    const cols = await h.client.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'analytics' AND table_name = 'member_balances' ORDER BY ordinal_position`);
    expect(cols.rows.map((r) => r.column_name).slice(0, 12)).toEqual(['member_id', 'available', 'lifetime_earned', 'lifetime_redeemed', 'lifetime_expired',
      'lifetime_reversed', 'lifetime_adjusted', 'tier', 'purchase_count', 'spend', 'last_purchase_at', 'sequence']);
    const a = await h.client.query(`SELECT spend, purchase_count FROM analytics.member_balances WHERE member_id = 'B'`);
    expect(a.rows[0]).toEqual({ spend: '1000', purchase_count: '1' });
    const pii = await h.client.query(`SELECT count(*) FROM information_schema.columns WHERE table_schema = 'analytics' AND column_name IN ('name', 'email', 'birthday')`);
    expect(pii.rows[0].count).toBe('0');
  });

  it('can select from analytics and nothing else, and cannot write', async () => {
    const c = await h.pool.connect();
    try {
      await c.query(`SET ROLE ${ANALYST_ROLE}`);
      const ok = await c.query(`SELECT count(*) FROM analytics.member_balances`);
      expect(ok.rows[0].count).toBe('6');
      await c.query(`SELECT * FROM analytics.cohort_retention, analytics.rfm_segments, analytics.tier_distribution, analytics.daily_points LIMIT 1`);
      const denied = async (sql: string) => {
        await c.query('SAVEPOINT s').catch(() => undefined);
        await expect(c.query(sql)).rejects.toMatchObject({ code: '42501' });
      };
      await c.query('BEGIN');
      await denied(`SELECT * FROM loyalty.member_balances`);
      await c.query('ROLLBACK TO SAVEPOINT s');
      await denied(`SELECT * FROM loyalty.ledger_entries`);
      await c.query('ROLLBACK TO SAVEPOINT s');
      await denied(`INSERT INTO analytics.member_balances (member_id) VALUES ('evil')`);
      await c.query('ROLLBACK TO SAVEPOINT s');
      await denied(`UPDATE analytics.member_balances SET available = 1`);
      await c.query('ROLLBACK TO SAVEPOINT s');
      await denied(`DELETE FROM analytics.ledger_entries`);
      await c.query('ROLLBACK TO SAVEPOINT s');
      await denied(`CREATE TABLE analytics.mine (x int)`);
      await c.query('ROLLBACK TO SAVEPOINT s');
      await denied(`CREATE TABLE loyalty.mine (x int)`);
      await c.query('ROLLBACK');
    } finally {
      await c.query('RESET ROLE').catch(() => undefined);
      c.release();
    }
  });

  it('an SQL client logs in as the role, and reads analytics only', async () => {
    const url = new URL(h.url);
    url.username = ANALYST_ROLE;
    url.password = '';
    const analyst = new Client({ connectionString: url.toString() });
    await analyst.connect();
    try {
      expect((await analyst.query('SELECT current_user AS u')).rows[0].u).toBe(ANALYST_ROLE);
      expect((await analyst.query('SELECT count(*) FROM analytics.member_balances')).rows[0].count).toBe('6');
      await expect(analyst.query('SELECT * FROM loyalty.member_balances')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await analyst.end();
    }
  });

  it('a replay into a shadow schema and the swap repoint the views in one step', async () => {
    await migrate({ connectionString: h.url, schema: 'loyalty_shadow', analytics: false });
    const x = fixedHistory();
    await applyPostgresBatch(h.client, { projection: 'postgres', topic: 't', partition: 0, events: x.slice(0, 5) }, { schema: 'loyalty_shadow' });
    // Before the swap the views still read the live schema.
    expect((await h.client.query(`SELECT count(*) FROM analytics.member_balances`)).rows[0].count).toBe('6');
    await swapSchemas(h.client, { live: 'loyalty', shadow: 'loyalty_shadow', retired: 'loyalty_retired' });
    expect((await h.client.query(`SELECT count(*) FROM analytics.member_balances`)).rows[0].count).toBe('2');
    expect((await h.client.query(`SELECT count(*) FROM loyalty.member_balances`)).rows[0].count).toBe('2');
    expect((await h.client.query(`SELECT count(*) FROM loyalty_retired.member_balances`)).rows[0].count).toBe('6');
    // The role still reads the republished views.
    await h.client.query(`SET ROLE ${ANALYST_ROLE}`);
    try {
      expect((await h.client.query(`SELECT count(*) FROM analytics.ledger_entries`)).rows[0].count).toBe('5');
    } finally {
      await h.client.query('RESET ROLE');
    }
  });
});
