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
import { addEffect, assertKnown, exhaustive, offsetToBigInt, PartitionEvent, pointsEffect, utcDay, utcIso, utcMonth } from '../projection/events';
import { Queryable, schemaPrefix } from './sql';

export const POSTGRES_PROJECTION = { name: 'postgres', version: 1 } as const;

export interface PostgresBatch {
  /** Name under which offsets are stored, e.g. `postgres` (a replay may use the same name in its shadow schema). */
  readonly projection: string;
  readonly topic: string;
  readonly partition: number;
  /** Events of this partition in offset order. */
  readonly events: readonly PartitionEvent[];
  /**
   * The last offset the consumer fetched, transaction markers included. The stored offset
   * moves past it, so a partition whose head is a commit marker shows lag 0.
   */
  readonly endOffset?: string;
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
  /** One row per event: member, sequence, event id, type, version, points delta, balance after (filled on write), occurred, recorded, causation, data. */
  ledger: { m: string; s: number; e: string; t: string; v: number; p: number; b: number; o: string; r: string; c: string | null; d: unknown }[];
  members: Map<string, MemberAgg>;
  tiers: { memberId: string; sequence: number; from: string | null; to: string; reason: string; asOf: string | null; occurredAt: string }[];
  redemptions: { memberId: string; redemptionId: string; sequence: number; rewardId: string | null; reference: string | null; points: number; lots: readonly unknown[]; occurredAt: string }[];
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
  const ledger: PostgresRowSets['ledger'] = new Array(n);
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

    ledger[i] = {
      m: env.memberId, s: env.sequence, e: env.eventId, t: env.type, v: env.version, p: fx.delta, b: 0,
      o: occurredAt, r: env.recordedAt, c: env.causationId ?? null, d: env.data,
    };

    m.available += fx.delta;
    addEffect(m, fx);
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
          reference: d.reference ?? null, points: d.points, lots: d.lots ?? [], occurredAt,
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
        // A positive adjustment repays a negative balance first, and opens a lot with the rest.
        const lotPoints = d.points - (d.repaid ?? 0);
        if (d.points > 0 && d.lotId && lotPoints > 0) {
          openLot({ memberId: env.memberId, lotId: d.lotId, cause: 'adjustment', points: lotPoints, remaining: lotPoints, earnedAt: occurredAt, expiresAt: d.expiresAt ? utcIso(d.expiresAt) : null });
        }
        takeLots(env.memberId, d.lots);
        break;
      }
      case 'RedemptionRefused':
        // No points move and no redemption happened: the ledger entry (points delta 0,
        // the request and the rejection in its data) is the whole record of it.
        break;
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
// The writes: one multi-row statement per table, SQL text cached per schema.
// Each row set travels as ONE json parameter expanded by json_to_recordset: a
// native JSON.stringify on our side and C parsing on the server, about a third
// cheaper than pg's text encoding of a dozen parallel arrays for UNNEST.
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
    ledger: `INSERT INTO ${s}ledger_entries
        (member_id, sequence, event_id, type, version, points_delta, balance_after, occurred_at, recorded_at, causation_id, data)
      SELECT m, s, e, t, v, p, b, o, r, c, d
      FROM json_to_recordset($1::json) AS x(m text, s bigint, e text, t text, v int, p bigint, b bigint, o timestamptz, r timestamptz, c text, d json)`,
    // Returns each member's balance AFTER the batch: balance_after is derived from it.
    members: `INSERT INTO ${s}member_balances AS b
        (member_id, available, lifetime_earned, lifetime_redeemed, lifetime_expired, lifetime_reversed, lifetime_adjusted, tier,
         purchase_count, refund_count, redemption_count, spend, first_purchase_at, last_purchase_at, sequence,
         enrolled_at, source, name, email, birthday, referred_by, referrals, updated_at)
      SELECT id, available, earned, redeemed, expired, reversed, adjusted, tier, purchases, refunds, redemptions, spend,
             "firstPurchaseAt", "lastPurchaseAt", sequence, "enrolledAt", source, name, email, birthday, "referredBy", referrals, now()
      FROM json_to_recordset($1::json) AS x(id text, available bigint, earned bigint, redeemed bigint, expired bigint, reversed bigint,
        adjusted bigint, tier text, purchases bigint, refunds bigint, redemptions bigint, spend bigint, "firstPurchaseAt" timestamptz,
        "lastPurchaseAt" timestamptz, sequence bigint, "enrolledAt" timestamptz, source text, name text, email text, birthday text,
        "referredBy" text, referrals bigint)
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
        updated_at = now()
      RETURNING member_id, available::text AS available`,
    tiers: `INSERT INTO ${s}tier_history (member_id, sequence, from_tier, to_tier, reason, as_of, occurred_at)
      SELECT "memberId", sequence, "from", "to", reason, "asOf", "occurredAt"
      FROM json_to_recordset($1::json) AS x("memberId" text, sequence bigint, "from" text, "to" text, reason text, "asOf" timestamptz, "occurredAt" timestamptz)`,
    redemptions: `INSERT INTO ${s}redemptions (member_id, redemption_id, sequence, reward_id, reference, points, lots, occurred_at)
      SELECT "memberId", "redemptionId", sequence, "rewardId", reference, points, lots, "occurredAt"
      FROM json_to_recordset($1::json) AS x("memberId" text, "redemptionId" text, sequence bigint, "rewardId" text, reference text,
        points bigint, lots jsonb, "occurredAt" timestamptz)`,
    newLots: `INSERT INTO ${s}points_lots (member_id, lot_id, cause, points, remaining, earned_at, expires_at)
      SELECT "memberId", "lotId", cause, points, remaining, "earnedAt", "expiresAt"
      FROM json_to_recordset($1::json) AS x("memberId" text, "lotId" text, cause text, points bigint, remaining bigint, "earnedAt" timestamptz, "expiresAt" timestamptz)`,
    takeLots: `UPDATE ${s}points_lots l SET remaining = l.remaining - t.taken
      FROM json_to_recordset($1::json) AS t("memberId" text, "lotId" text, taken bigint)
      WHERE l.member_id = t."memberId" COLLATE "C" AND l.lot_id = t."lotId" COLLATE "C"`,
    newPurchases: `INSERT INTO ${s}purchases
        (member_id, purchase_id, sequence, amount, currency, channel, store_id, occurred_at, refunded, refund_count, points_earned, points_reversed)
      SELECT "memberId", "purchaseId", sequence, amount, currency, channel, "storeId", "occurredAt", refunded, "refundCount", "pointsEarned", "pointsReversed"
      FROM json_to_recordset($1::json) AS x("memberId" text, "purchaseId" text, sequence bigint, amount bigint, currency text, channel text,
        "storeId" text, "occurredAt" timestamptz, refunded bigint, "refundCount" int, "pointsEarned" bigint, "pointsReversed" bigint)`,
    touchPurchases: `UPDATE ${s}purchases p SET refunded = p.refunded + t.refunded, refund_count = p.refund_count + t."refundCount",
        points_earned = p.points_earned + t."pointsEarned", points_reversed = p.points_reversed + t."pointsReversed"
      FROM json_to_recordset($1::json) AS t("memberId" text, "purchaseId" text, refunded bigint, "refundCount" int, "pointsEarned" bigint, "pointsReversed" bigint)
      WHERE p.member_id = t."memberId" COLLATE "C" AND p.purchase_id = t."purchaseId" COLLATE "C"`,
    months: `INSERT INTO ${s}member_months AS m (member_id, month, purchases, revenue, refunded, points_earned)
      SELECT "memberId", month, purchases, revenue, refunded, earned
      FROM json_to_recordset($1::json) AS x("memberId" text, month date, purchases bigint, revenue bigint, refunded bigint, earned bigint)
      ON CONFLICT (member_id, month) DO UPDATE SET purchases = m.purchases + EXCLUDED.purchases, revenue = m.revenue + EXCLUDED.revenue,
        refunded = m.refunded + EXCLUDED.refunded, points_earned = m.points_earned + EXCLUDED.points_earned`,
    daily: `INSERT INTO ${s}daily_stats AS d (day, partition, purchases, revenue, refunds, refunded, points_issued, points_redeemed,
        points_expired, points_reversed, points_adjusted, redemptions, new_members)
      SELECT day, $1::int, purchases, revenue, refunds, refunded, issued, redeemed, expired, reversed, adjusted, redemptions, "newMembers"
      FROM json_to_recordset($2::json) AS u(day date, purchases bigint, revenue bigint, refunds bigint, refunded bigint, issued bigint,
        redeemed bigint, expired bigint, reversed bigint, adjusted bigint, redemptions bigint, "newMembers" bigint)
      ORDER BY day
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

  // Balances first: the upsert RETURNS each member's balance after the batch, and
  // balance_after of every entry is derived from it backwards (no join, no window).
  const after = new Map<string, number>();
  if (sets.members.size > 0) {
    const rows: (MemberAgg & { id: string })[] = [];
    for (const [id, m] of sets.members) rows.push({ id, ...m });
    const res = await client.query<{ member_id: string; available: string }>(sql.members, [JSON.stringify(rows)]);
    for (const r of res.rows) after.set(r.member_id, Number(r.available));
  }

  const L = sets.ledger;
  for (let i = L.length - 1; i >= 0; i--) {
    const b = after.get(L[i].m);
    if (b === undefined) throw new Error(`no balance returned for member ${L[i].m}`);
    L[i].b = b;
    after.set(L[i].m, b - L[i].p);
  }
  if (L.length > 0) await client.query(sql.ledger, [JSON.stringify(L)]);

  if (sets.tiers.length > 0) await client.query(sql.tiers, [JSON.stringify(sets.tiers)]);
  if (sets.redemptions.length > 0) await client.query(sql.redemptions, [JSON.stringify(sets.redemptions)]);
  if (sets.newLots.size > 0) await client.query(sql.newLots, [JSON.stringify([...sets.newLots.values()])]);
  if (sets.lotTakes.size > 0) await client.query(sql.takeLots, [JSON.stringify([...sets.lotTakes.values()])]);
  if (sets.newPurchases.size > 0) await client.query(sql.newPurchases, [JSON.stringify([...sets.newPurchases.values()])]);
  if (sets.purchaseTouches.size > 0) await client.query(sql.touchPurchases, [JSON.stringify([...sets.purchaseTouches.values()])]);
  if (sets.months.size > 0) await client.query(sql.months, [JSON.stringify([...sets.months.values()])]);
  if (sets.daily.size > 0) {
    const days = [...sets.daily].map(([day, d]) => ({ day, ...d }));
    await client.query(sql.daily, [partition, JSON.stringify(days)]);
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
      const end = batch.endOffset !== undefined ? offsetToBigInt(batch.endOffset) : last;
      next = (end > last ? end : last) + 1n;
      await client.query(sql.moveOffset, [batch.projection, batch.topic, batch.partition, next.toString()]);
    }
    if (own) await client.query('COMMIT');
    return { applied: fresh.length, skipped, nextOffset: next.toString(), members };
  } catch (err) {
    if (own) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
