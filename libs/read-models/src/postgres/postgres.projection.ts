// The Postgres read model: ONE projection definition, used unchanged by the live
// projector and by every replay (which only passes another schema).
//
// A batch is the events of ONE Kafka partition, in offset order. It is applied in
// one transaction: lock the partition's offset row, skip what is below the stored
// next_offset, fold the rest in memory into a handful of row sets, write each set
// with ONE multi-row statement (UNNEST over arrays), move next_offset. A crash
// anywhere rolls all of it back; a re-delivered batch finds the offset moved and
// changes nothing.
import type { EventEnvelope } from '@loyalty/domain';
import { assertKnown, exhaustive, offsetToBigInt, PartitionEvent, pointsEffect, utcDay, utcIso, utcMonth } from '../projection/events';
import { Queryable, schemaPrefix } from './sql';

export const POSTGRES_PROJECTION = { name: 'postgres', version: 1 } as const;

export interface PostgresBatch {
  /** Name under which offsets are stored, e.g. `postgres` (a replay may use the same name in its shadow schema). */
  readonly projection: string;
  readonly topic: string;
  readonly partition: number;
  /** Events of this partition in offset order. */
  readonly events: readonly PartitionEvent[];
}

export interface PostgresBatchOptions {
  /** Target schema; omitted = unqualified names (the session's search_path). */
  readonly schema?: string;
  /**
   * true (default): BEGIN / COMMIT / ROLLBACK here. false: the caller has opened the
   * transaction on this same client and commits it (the offset still moves with the rows).
   */
  readonly ownTransaction?: boolean;
  /**
   * Own transactions only. Default false: `SET LOCAL synchronous_commit = off`. Safe here,
   * because rows and offset are lost TOGETHER if the database crashes before the WAL flush,
   * so the batch is simply applied again; it only costs durability latency, never exactness.
   */
  readonly synchronousCommit?: boolean;
}

export interface PostgresBatchResult {
  /** Events written. */
  readonly applied: number;
  /** Events below the stored offset (already applied earlier). */
  readonly skipped: number;
  /** The stored next offset after the batch (a decimal string). */
  readonly nextOffset: string;
  readonly members: number;
}

// ---------------------------------------------------------------------------
// The fold: events -> row sets (pure, no I/O)
// ---------------------------------------------------------------------------

interface MemberAgg {
  available: number;
  earned: number;
  redeemed: number;
  expired: number;
  reversed: number;
  adjusted: number;
  tier: string | null;
  purchases: number;
  refunds: number;
  redemptions: number;
  spend: number;
  firstPurchaseAt: string | null;
  lastPurchaseAt: string | null;
  sequence: number;
  enrolledAt: string | null;
  source: string | null;
  name: string | null;
  email: string | null;
  birthday: string | null;
  referredBy: string | null;
  referrals: number;
}

interface LotRow {
  memberId: string;
  lotId: string;
  cause: string;
  points: number;
  remaining: number;
  earnedAt: string;
  expiresAt: string | null;
}

interface PurchaseRow {
  memberId: string;
  purchaseId: string;
  sequence: number;
  amount: number;
  currency: string;
  channel: string | null;
  storeId: string | null;
  occurredAt: string;
  refunded: number;
  refundCount: number;
  pointsEarned: number;
  pointsReversed: number;
}

interface PurchaseTouch {
  memberId: string;
  purchaseId: string;
  refunded: number;
  refundCount: number;
  pointsEarned: number;
  pointsReversed: number;
}

interface DailyAgg {
  purchases: number;
  revenue: number;
  refunds: number;
  refunded: number;
  issued: number;
  redeemed: number;
  expired: number;
  reversed: number;
  adjusted: number;
  redemptions: number;
  newMembers: number;
}

interface MonthAgg {
  memberId: string;
  month: string; // YYYY-MM-01
  purchases: number;
  revenue: number;
  refunded: number;
  earned: number;
}

/** The row sets one batch writes. Exposed for unit tests; `applyPostgresBatch` is the API. */
export interface PostgresRowSets {
  ledger: {
    memberId: string[];
    sequence: number[];
    eventId: string[];
    type: string[];
    version: number[];
    delta: number[];
    occurredAt: string[];
    recordedAt: string[];
    causationId: (string | null)[];
    data: string[];
  };
  members: Map<string, MemberAgg>;
  tiers: { memberId: string; sequence: number; from: string | null; to: string; reason: string; asOf: string | null; occurredAt: string }[];
  redemptions: { memberId: string; redemptionId: string; sequence: number; rewardId: string | null; reference: string | null; points: number; lots: string; occurredAt: string }[];
  newLots: Map<string, LotRow>;
  lotTakes: Map<string, { memberId: string; lotId: string; taken: number }>;
  newPurchases: Map<string, PurchaseRow>;
  purchaseTouches: Map<string, PurchaseTouch>;
  daily: Map<string, DailyAgg>;
  months: Map<string, MonthAgg>;
}

const key = (a: string, b: string) => `${a}\u0000${b}`;

function newMember(): MemberAgg {
  return {
    available: 0, earned: 0, redeemed: 0, expired: 0, reversed: 0, adjusted: 0, tier: null,
    purchases: 0, refunds: 0, redemptions: 0, spend: 0, firstPurchaseAt: null, lastPurchaseAt: null,
    sequence: 0, enrolledAt: null, source: null, name: null, email: null, birthday: null, referredBy: null, referrals: 0,
  };
}

function newDaily(): DailyAgg {
  return { purchases: 0, revenue: 0, refunds: 0, refunded: 0, issued: 0, redeemed: 0, expired: 0, reversed: 0, adjusted: 0, redemptions: 0, newMembers: 0 };
}

/** Folds envelopes (already filtered by offset, in order) into the row sets of one batch. */
export function foldPostgresBatch(envelopes: readonly EventEnvelope[]): PostgresRowSets {
  const n = envelopes.length;
  const ledger: PostgresRowSets['ledger'] = {
    memberId: new Array(n), sequence: new Array(n), eventId: new Array(n), type: new Array(n), version: new Array(n),
    delta: new Array(n), occurredAt: new Array(n), recordedAt: new Array(n), causationId: new Array(n), data: new Array(n),
  };
  const sets: PostgresRowSets = {
    ledger, members: new Map(), tiers: [], redemptions: [], newLots: new Map(), lotTakes: new Map(),
    newPurchases: new Map(), purchaseTouches: new Map(), daily: new Map(), months: new Map(),
  };

  const member = (id: string) => {
    let m = sets.members.get(id);
    if (!m) sets.members.set(id, (m = newMember()));
    return m;
  };
  const daily = (iso: string) => {
    const d = utcDay(iso);
    let a = sets.daily.get(d);
    if (!a) sets.daily.set(d, (a = newDaily()));
    return a;
  };
  const month = (memberId: string, iso: string) => {
    const m = `${utcMonth(iso)}-01`;
    const k = key(memberId, m);
    let a = sets.months.get(k);
    if (!a) sets.months.set(k, (a = { memberId, month: m, purchases: 0, revenue: 0, refunded: 0, earned: 0 }));
    return a;
  };
  const touch = (memberId: string, purchaseId: string): { refunded: number; refundCount: number; pointsEarned: number; pointsReversed: number } => {
    const k = key(memberId, purchaseId);
    const fresh = sets.newPurchases.get(k);
    if (fresh) return fresh;
    let t = sets.purchaseTouches.get(k);
    if (!t) sets.purchaseTouches.set(k, (t = { memberId, purchaseId, refunded: 0, refundCount: 0, pointsEarned: 0, pointsReversed: 0 }));
    return t;
  };
  const openLot = (lot: LotRow) => {
    sets.newLots.set(key(lot.memberId, lot.lotId), lot);
  };
  const takeLots = (memberId: string, lots: readonly { lotId: string; points: number }[] | undefined) => {
    if (!lots) return;
    for (const t of lots) {
      const k = key(memberId, t.lotId);
      const fresh = sets.newLots.get(k);
      if (fresh) {
        fresh.remaining -= t.points;
        continue;
      }
      const prev = sets.lotTakes.get(k);
      if (prev) prev.taken += t.points;
      else sets.lotTakes.set(k, { memberId, lotId: t.lotId, taken: t.points });
    }
  };

  for (let i = 0; i < n; i++) {
    const env = envelopes[i];
    assertKnown(env);
    const e = env as unknown as import('@loyalty/domain').MemberEvent;
    const fx = pointsEffect(e);
    const occurredAt = utcIso(env.occurredAt);
    const m = member(env.memberId);

    ledger.memberId[i] = env.memberId;
    ledger.sequence[i] = env.sequence;
    ledger.eventId[i] = env.eventId;
    ledger.type[i] = env.type;
    ledger.version[i] = env.version;
    ledger.delta[i] = fx.delta;
    ledger.occurredAt[i] = occurredAt;
    ledger.recordedAt[i] = env.recordedAt;
    ledger.causationId[i] = env.causationId ?? null;
    ledger.data[i] = JSON.stringify(env.data);

    m.available += fx.delta;
    m.earned += fx.earned;
    m.redeemed += fx.redeemed;
    m.expired += fx.expired;
    m.reversed += fx.reversed;
    m.adjusted += fx.adjusted;
    if (env.sequence > m.sequence) m.sequence = env.sequence;

    switch (e.type) {
      case 'MemberEnrolled': {
        const d = e.data;
        m.enrolledAt = occurredAt;
        m.source = d.source;
        m.tier = d.tier ?? m.tier;
        m.name = d.name ?? null;
        m.email = d.email ?? null;
        m.birthday = d.birthday ?? null;
        m.referredBy = d.referredBy ?? null;
        daily(occurredAt).newMembers += 1;
        if (d.tier) sets.tiers.push({ memberId: env.memberId, sequence: env.sequence, from: null, to: d.tier, reason: 'enrolment', asOf: null, occurredAt });
        break;
      }
      case 'PurchaseMade': {
        const d = e.data;
        const at = utcIso(d.occurredAt ?? env.occurredAt);
        m.purchases += 1;
        m.spend += d.amount;
        if (!m.firstPurchaseAt || at < m.firstPurchaseAt) m.firstPurchaseAt = at;
        if (!m.lastPurchaseAt || at > m.lastPurchaseAt) m.lastPurchaseAt = at;
        const day = daily(at);
        day.purchases += 1;
        day.revenue += d.amount;
        const mo = month(env.memberId, at);
        mo.purchases += 1;
        mo.revenue += d.amount;
        const k = key(env.memberId, d.purchaseId);
        sets.newPurchases.set(k, {
          memberId: env.memberId, purchaseId: d.purchaseId, sequence: env.sequence, amount: d.amount, currency: d.currency,
          channel: d.channel ?? null, storeId: d.storeId ?? null, occurredAt: at, refunded: 0, refundCount: 0, pointsEarned: 0, pointsReversed: 0,
        });
        break;
      }
      case 'PointsEarned': {
        const d = e.data;
        daily(occurredAt).issued += d.points;
        month(env.memberId, occurredAt).earned += d.points;
        if (d.purchaseId) touch(env.memberId, d.purchaseId).pointsEarned += d.points;
        const lotPoints = d.points - (d.repaid ?? 0);
        if (lotPoints > 0) {
          openLot({ memberId: env.memberId, lotId: d.lotId, cause: d.cause, points: lotPoints, remaining: lotPoints, earnedAt: occurredAt, expiresAt: d.expiresAt ? utcIso(d.expiresAt) : null });
        }
        break;
      }
      case 'TierChanged': {
        const d = e.data;
        m.tier = d.to;
        sets.tiers.push({ memberId: env.memberId, sequence: env.sequence, from: d.from, to: d.to, reason: d.reason, asOf: d.asOf ? utcIso(d.asOf) : null, occurredAt });
        break;
      }
      case 'RewardRedeemed': {
        const d = e.data;
        m.redemptions += 1;
        const day = daily(occurredAt);
        day.redeemed += d.points;
        day.redemptions += 1;
        takeLots(env.memberId, d.lots);
        sets.redemptions.push({
          memberId: env.memberId, redemptionId: d.redemptionId, sequence: env.sequence, rewardId: d.rewardId ?? null,
          reference: d.reference ?? null, points: d.points, lots: JSON.stringify(d.lots ?? []), occurredAt,
        });
        break;
      }
      case 'PurchaseRefunded': {
        const d = e.data;
        m.refunds += 1;
        m.spend -= d.amount;
        const day = daily(occurredAt);
        day.refunds += 1;
        day.refunded += d.amount;
        month(env.memberId, occurredAt).refunded += d.amount;
        const t = touch(env.memberId, d.purchaseId);
        t.refunded += d.amount;
        t.refundCount += 1;
        break;
      }
      case 'PointsReversed': {
        const d = e.data;
        daily(occurredAt).reversed += d.points;
        touch(env.memberId, d.purchaseId).pointsReversed += d.points;
        takeLots(env.memberId, d.lots);
        break;
      }
      case 'PointsExpired': {
        const d = e.data;
        daily(occurredAt).expired += d.points;
        takeLots(env.memberId, [{ lotId: d.lotId, points: d.points }]);
        break;
      }
      case 'PointsAdjusted': {
        const d = e.data;
        daily(occurredAt).adjusted += d.points;
        if (d.points > 0 && d.lotId) {
          openLot({ memberId: env.memberId, lotId: d.lotId, cause: 'adjustment', points: d.points, remaining: d.points, earnedAt: occurredAt, expiresAt: d.expiresAt ? utcIso(d.expiresAt) : null });
        }
        takeLots(env.memberId, d.lots);
        break;
      }
      case 'ReferralCompleted': {
        if (e.data.referrerId === env.memberId) m.referrals += 1;
        break;
      }
      default:
        exhaustive(e);
    }
  }
  return sets;
}

// ---------------------------------------------------------------------------
// The writes: one multi-row statement per table, SQL text cached per schema
// ---------------------------------------------------------------------------

function statements(schema: string | undefined) {
  const s = schemaPrefix(schema);
  return {
    lockOffset: `INSERT INTO ${s}projection_offsets AS o (projection, topic, partition, next_offset)
      VALUES ($1, $2, $3, 0)
      ON CONFLICT (projection, topic, partition) DO UPDATE SET next_offset = o.next_offset
      RETURNING next_offset::text AS next_offset`,
    moveOffset: `UPDATE ${s}projection_offsets SET next_offset = $4, updated_at = now()
      WHERE projection = $1 AND topic = $2 AND partition = $3`,
    // balance_after = the member's stored balance (read BEFORE member_balances is
    // updated below) + the running sum of the batch's deltas in sequence order.
    ledger: `INSERT INTO ${s}ledger_entries
        (member_id, sequence, event_id, type, version, points_delta, balance_after, occurred_at, recorded_at, causation_id, data)
      SELECT e.member_id, e.sequence, e.event_id, e.type, e.version, e.delta,
             COALESCE(b.available, 0) + SUM(e.delta) OVER (PARTITION BY e.member_id ORDER BY e.sequence),
             e.occurred_at, e.recorded_at, e.causation_id, e.data::jsonb
      FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[])
           AS e(member_id, sequence, event_id, type, version, delta, occurred_at, recorded_at, causation_id, data)
      LEFT JOIN ${s}member_balances b ON b.member_id = e.member_id`,
    members: `INSERT INTO ${s}member_balances AS b
        (member_id, available, lifetime_earned, lifetime_redeemed, lifetime_expired, lifetime_reversed, lifetime_adjusted, tier,
         purchase_count, refund_count, redemption_count, spend, first_purchase_at, last_purchase_at, sequence,
         enrolled_at, source, name, email, birthday, referred_by, referrals, updated_at)
      SELECT u.*, now() FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[],
                             $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::timestamptz[], $14::timestamptz[], $15::bigint[],
                             $16::timestamptz[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::bigint[]) AS u
      ON CONFLICT (member_id) DO UPDATE SET
        available = b.available + EXCLUDED.available,
        lifetime_earned = b.lifetime_earned + EXCLUDED.lifetime_earned,
        lifetime_redeemed = b.lifetime_redeemed + EXCLUDED.lifetime_redeemed,
        lifetime_expired = b.lifetime_expired + EXCLUDED.lifetime_expired,
        lifetime_reversed = b.lifetime_reversed + EXCLUDED.lifetime_reversed,
        lifetime_adjusted = b.lifetime_adjusted + EXCLUDED.lifetime_adjusted,
        tier = COALESCE(EXCLUDED.tier, b.tier),
        purchase_count = b.purchase_count + EXCLUDED.purchase_count,
        refund_count = b.refund_count + EXCLUDED.refund_count,
        redemption_count = b.redemption_count + EXCLUDED.redemption_count,
        spend = b.spend + EXCLUDED.spend,
        first_purchase_at = LEAST(b.first_purchase_at, EXCLUDED.first_purchase_at),
        last_purchase_at = GREATEST(b.last_purchase_at, EXCLUDED.last_purchase_at),
        sequence = GREATEST(b.sequence, EXCLUDED.sequence),
        enrolled_at = COALESCE(b.enrolled_at, EXCLUDED.enrolled_at),
        source = COALESCE(b.source, EXCLUDED.source),
        name = COALESCE(EXCLUDED.name, b.name),
        email = COALESCE(EXCLUDED.email, b.email),
        birthday = COALESCE(EXCLUDED.birthday, b.birthday),
        referred_by = COALESCE(EXCLUDED.referred_by, b.referred_by),
        referrals = b.referrals + EXCLUDED.referrals,
        updated_at = now()`,
    tiers: `INSERT INTO ${s}tier_history (member_id, sequence, from_tier, to_tier, reason, as_of, occurred_at)
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])`,
    redemptions: `INSERT INTO ${s}redemptions (member_id, redemption_id, sequence, reward_id, reference, points, lots, occurred_at)
      SELECT m, r, q, w, f, p, l::jsonb, o FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::timestamptz[])
        AS u(m, r, q, w, f, p, l, o)`,
    newLots: `INSERT INTO ${s}points_lots (member_id, lot_id, cause, points, remaining, earned_at, expires_at)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::timestamptz[], $7::timestamptz[])`,
    takeLots: `UPDATE ${s}points_lots l SET remaining = l.remaining - t.taken
      FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(member_id, lot_id, taken)
      WHERE l.member_id = t.member_id AND l.lot_id = t.lot_id`,
    newPurchases: `INSERT INTO ${s}purchases
        (member_id, purchase_id, sequence, amount, currency, channel, store_id, occurred_at, refunded, refund_count, points_earned, points_reversed)
      SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::timestamptz[],
                           $9::bigint[], $10::int[], $11::bigint[], $12::bigint[])`,
    touchPurchases: `UPDATE ${s}purchases p SET refunded = p.refunded + t.refunded, refund_count = p.refund_count + t.refund_count,
        points_earned = p.points_earned + t.points_earned, points_reversed = p.points_reversed + t.points_reversed
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::bigint[], $6::bigint[])
        AS t(member_id, purchase_id, refunded, refund_count, points_earned, points_reversed)
      WHERE p.member_id = t.member_id AND p.purchase_id = t.purchase_id`,
    months: `INSERT INTO ${s}member_months AS m (member_id, month, purchases, revenue, refunded, points_earned)
      SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
      ON CONFLICT (member_id, month) DO UPDATE SET purchases = m.purchases + EXCLUDED.purchases, revenue = m.revenue + EXCLUDED.revenue,
        refunded = m.refunded + EXCLUDED.refunded, points_earned = m.points_earned + EXCLUDED.points_earned`,
    daily: `INSERT INTO ${s}daily_stats AS d (day, partition, purchases, revenue, refunds, refunded, points_issued, points_redeemed,
        points_expired, points_reversed, points_adjusted, redemptions, new_members)
      SELECT u.day, $1::int, u.purchases, u.revenue, u.refunds, u.refunded, u.issued, u.redeemed, u.expired, u.reversed, u.adjusted, u.redemptions, u.new_members
      FROM unnest($2::date[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[])
        AS u(day, purchases, revenue, refunds, refunded, issued, redeemed, expired, reversed, adjusted, redemptions, new_members)
      ON CONFLICT (day, partition) DO UPDATE SET purchases = d.purchases + EXCLUDED.purchases, revenue = d.revenue + EXCLUDED.revenue,
        refunds = d.refunds + EXCLUDED.refunds, refunded = d.refunded + EXCLUDED.refunded, points_issued = d.points_issued + EXCLUDED.points_issued,
        points_redeemed = d.points_redeemed + EXCLUDED.points_redeemed, points_expired = d.points_expired + EXCLUDED.points_expired,
        points_reversed = d.points_reversed + EXCLUDED.points_reversed, points_adjusted = d.points_adjusted + EXCLUDED.points_adjusted,
        redemptions = d.redemptions + EXCLUDED.redemptions, new_members = d.new_members + EXCLUDED.new_members`,
  };
}

const statementCache = new Map<string, ReturnType<typeof statements>>();
function sqlFor(schema: string | undefined) {
  const k = schema ?? '';
  let st = statementCache.get(k);
  if (!st) statementCache.set(k, (st = statements(schema)));
  return st;
}

/** Writes the row sets of one batch (the caller holds the transaction). */
export async function writePostgresRowSets(client: Queryable, sets: PostgresRowSets, partition: number, schema?: string): Promise<void> {
  const sql = sqlFor(schema);
  const L = sets.ledger;
  if (L.memberId.length > 0) {
    await client.query(sql.ledger, [L.memberId, L.sequence, L.eventId, L.type, L.version, L.delta, L.occurredAt, L.recordedAt, L.causationId, L.data]);
  }

  if (sets.members.size > 0) {
    const cols: unknown[][] = Array.from({ length: 22 }, () => []);
    for (const [id, m] of sets.members) {
      const row = [id, m.available, m.earned, m.redeemed, m.expired, m.reversed, m.adjusted, m.tier, m.purchases, m.refunds, m.redemptions,
        m.spend, m.firstPurchaseAt, m.lastPurchaseAt, m.sequence, m.enrolledAt, m.source, m.name, m.email, m.birthday, m.referredBy, m.referrals];
      for (let c = 0; c < 22; c++) cols[c].push(row[c]);
    }
    await client.query(sql.members, cols);
  }

  if (sets.tiers.length > 0) {
    const t = sets.tiers;
    await client.query(sql.tiers, [t.map((r) => r.memberId), t.map((r) => r.sequence), t.map((r) => r.from), t.map((r) => r.to), t.map((r) => r.reason), t.map((r) => r.asOf), t.map((r) => r.occurredAt)]);
  }

  if (sets.redemptions.length > 0) {
    const r = sets.redemptions;
    await client.query(sql.redemptions, [r.map((x) => x.memberId), r.map((x) => x.redemptionId), r.map((x) => x.sequence), r.map((x) => x.rewardId), r.map((x) => x.reference), r.map((x) => x.points), r.map((x) => x.lots), r.map((x) => x.occurredAt)]);
  }

  if (sets.newLots.size > 0) {
    const l = [...sets.newLots.values()];
    await client.query(sql.newLots, [l.map((x) => x.memberId), l.map((x) => x.lotId), l.map((x) => x.cause), l.map((x) => x.points), l.map((x) => x.remaining), l.map((x) => x.earnedAt), l.map((x) => x.expiresAt)]);
  }
  if (sets.lotTakes.size > 0) {
    const l = [...sets.lotTakes.values()];
    await client.query(sql.takeLots, [l.map((x) => x.memberId), l.map((x) => x.lotId), l.map((x) => x.taken)]);
  }

  if (sets.newPurchases.size > 0) {
    const p = [...sets.newPurchases.values()];
    await client.query(sql.newPurchases, [p.map((x) => x.memberId), p.map((x) => x.purchaseId), p.map((x) => x.sequence), p.map((x) => x.amount), p.map((x) => x.currency),
      p.map((x) => x.channel), p.map((x) => x.storeId), p.map((x) => x.occurredAt), p.map((x) => x.refunded), p.map((x) => x.refundCount), p.map((x) => x.pointsEarned), p.map((x) => x.pointsReversed)]);
  }
  if (sets.purchaseTouches.size > 0) {
    const p = [...sets.purchaseTouches.values()];
    await client.query(sql.touchPurchases, [p.map((x) => x.memberId), p.map((x) => x.purchaseId), p.map((x) => x.refunded), p.map((x) => x.refundCount), p.map((x) => x.pointsEarned), p.map((x) => x.pointsReversed)]);
  }

  if (sets.months.size > 0) {
    const m = [...sets.months.values()];
    await client.query(sql.months, [m.map((x) => x.memberId), m.map((x) => x.month), m.map((x) => x.purchases), m.map((x) => x.revenue), m.map((x) => x.refunded), m.map((x) => x.earned)]);
  }

  if (sets.daily.size > 0) {
    const days = [...sets.daily.keys()].sort();
    const d = days.map((k) => sets.daily.get(k)!);
    await client.query(sql.daily, [partition, days, d.map((x) => x.purchases), d.map((x) => x.revenue), d.map((x) => x.refunds), d.map((x) => x.refunded), d.map((x) => x.issued),
      d.map((x) => x.redeemed), d.map((x) => x.expired), d.map((x) => x.reversed), d.map((x) => x.adjusted), d.map((x) => x.redemptions), d.map((x) => x.newMembers)]);
  }
}

/**
 * Applies one batch of ONE partition exactly once. Events below the stored
 * next_offset are skipped (a re-delivery or an overlap); the rest are written and
 * next_offset moves to (last offset + 1), all in one transaction.
 */
export async function applyPostgresBatch(client: Queryable, batch: PostgresBatch, options: PostgresBatchOptions = {}): Promise<PostgresBatchResult> {
  const own = options.ownTransaction ?? true;
  const sql = sqlFor(options.schema);
  if (own) {
    await client.query('BEGIN');
    if (!options.synchronousCommit) await client.query('SET LOCAL synchronous_commit = off');
  }
  try {
    const { rows } = await client.query<{ next_offset: string }>(sql.lockOffset, [batch.projection, batch.topic, batch.partition]);
    const stored = BigInt(rows[0].next_offset);

    const fresh: EventEnvelope[] = [];
    let last = -1n;
    for (const ev of batch.events) {
      const o = offsetToBigInt(ev.offset);
      if (o <= last) throw new RangeError(`batch offsets must increase: ${ev.offset} after ${last}`);
      last = o;
      if (o >= stored) fresh.push(ev.envelope);
    }
    const skipped = batch.events.length - fresh.length;
    let members = 0;
    let next = stored;
    if (fresh.length > 0) {
      const sets = foldPostgresBatch(fresh);
      members = sets.members.size;
      await writePostgresRowSets(client, sets, batch.partition, options.schema);
      next = last + 1n;
      await client.query(sql.moveOffset, [batch.projection, batch.topic, batch.partition, next.toString()]);
    }
    if (own) await client.query('COMMIT');
    return { applied: fresh.length, skipped, nextOffset: next.toString(), members };
  } catch (err) {
    if (own) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
