// Query functions over the Postgres read model. Plain functions taking a pg
// client (a Pool is fine: every function is one statement); the API wraps them
// in @nestjs/cqrs query handlers.
import {
  channelPerformanceSql,
  cohortRetentionSql,
  DEFAULT_ACTIVE_DAYS,
  kpisSql,
  revenueConcentrationSql,
  RFM_SEGMENTS,
  rfmSegmentsSql,
  summarySql,
} from './analytics';
import { int, isoOrNull, Queryable, schemaPrefix } from './sql';

export interface SchemaOption {
  /** Read-model schema; omitted = unqualified (search_path). */
  readonly schema?: string;
}

/** The body of GET /v1/members/{id}/balance. */
export interface Balance {
  readonly memberId: string;
  readonly available: number;
  readonly lifetimeEarned: number;
  readonly lifetimeRedeemed: number;
  readonly lifetimeExpired: number;
  readonly lifetimeReversed: number;
  readonly lifetimeAdjusted: number;
  readonly tier: string | null;
  readonly sequence: number;
}

export interface MemberProfile extends Balance {
  readonly enrolledAt: string | null;
  readonly source: string | null;
  readonly name: string | null;
  readonly email: string | null;
  readonly birthday: string | null;
  readonly referredBy: string | null;
  readonly purchaseCount: number;
  readonly spend: number;
  readonly lastPurchaseAt: string | null;
}

const iso = (v: Date | string | null) => isoOrNull(v);

export async function getPostgresBalance(client: Queryable, q: SchemaOption & { memberId: string }): Promise<Balance | null> {
  const p = await getPostgresMember(client, q);
  if (!p) return null;
  const { memberId, available, lifetimeEarned, lifetimeRedeemed, lifetimeExpired, lifetimeReversed, lifetimeAdjusted, tier, sequence } = p;
  return { memberId, available, lifetimeEarned, lifetimeRedeemed, lifetimeExpired, lifetimeReversed, lifetimeAdjusted, tier, sequence };
}

/** Profile, tier and balance (GET /v1/members/{id}). */
export async function getPostgresMember(client: Queryable, q: SchemaOption & { memberId: string }): Promise<MemberProfile | null> {
  const s = schemaPrefix(q.schema);
  const { rows } = await client.query(`SELECT * FROM ${s}member_balances WHERE member_id = $1`, [q.memberId]);
  const r = rows[0];
  if (!r) return null;
  return {
    memberId: r.member_id,
    available: int(r.available),
    lifetimeEarned: int(r.lifetime_earned),
    lifetimeRedeemed: int(r.lifetime_redeemed),
    lifetimeExpired: int(r.lifetime_expired),
    lifetimeReversed: int(r.lifetime_reversed),
    lifetimeAdjusted: int(r.lifetime_adjusted),
    tier: r.tier,
    sequence: int(r.sequence),
    enrolledAt: iso(r.enrolled_at),
    source: r.source,
    name: r.name,
    email: r.email,
    birthday: r.birthday,
    referredBy: r.referred_by,
    purchaseCount: int(r.purchase_count),
    spend: int(r.spend),
    lastPurchaseAt: iso(r.last_purchase_at),
  };
}

export interface PartitionOffset {
  readonly partition: number;
  /** The next offset to apply (= offsets applied so far): compare with the topic's high watermark for lag. */
  readonly nextOffset: string;
  readonly updatedAt: string | null;
}

/** The stored offsets of a projection (caught-up checks and `GET /v1/projections`). */
export async function getPostgresOffsets(client: Queryable, q: SchemaOption & { projection: string; topic: string }): Promise<PartitionOffset[]> {
  const s = schemaPrefix(q.schema);
  const { rows } = await client.query(
    `SELECT partition, next_offset::text AS next_offset, updated_at FROM ${s}projection_offsets WHERE projection = $1 AND topic = $2 ORDER BY partition`,
    [q.projection, q.topic],
  );
  return rows.map((r: any) => ({ partition: r.partition, nextOffset: r.next_offset, updatedAt: iso(r.updated_at) }));
}

export interface StatementEntry {
  readonly sequence: number;
  readonly eventId: string;
  readonly type: string;
  readonly pointsDelta: number;
  readonly balanceAfter: number;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly causationId: string | null;
  readonly data: Record<string, unknown>;
}

export interface StatementPage {
  readonly memberId: string;
  readonly entries: StatementEntry[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  readonly nextBefore: number | null;
}

/**
 * A member's ledger entries, newest first, keyset-paginated on sequence:
 * `before` = return entries with sequence < before. `pointsOnly` leaves out
 * events that move no points (enrolment, purchase, tier change …).
 */
export async function getStatement(
  client: Queryable,
  q: SchemaOption & { memberId: string; limit?: number; before?: number | null; pointsOnly?: boolean },
): Promise<StatementPage> {
  const s = schemaPrefix(q.schema);
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? 50), 1), 500);
  const before = q.before ?? null;
  const { rows } = await client.query(
    `SELECT sequence, event_id, type, points_delta, balance_after, occurred_at, recorded_at, causation_id, data
     FROM ${s}ledger_entries
     WHERE member_id = $1 AND ($2::bigint IS NULL OR sequence < $2) ${q.pointsOnly ? 'AND points_delta <> 0' : ''}
     ORDER BY sequence DESC LIMIT $3`,
    [q.memberId, before, limit + 1],
  );
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const entries = page.map((r: any) => ({
    sequence: int(r.sequence),
    eventId: r.event_id,
    type: r.type,
    pointsDelta: int(r.points_delta),
    balanceAfter: int(r.balance_after),
    occurredAt: iso(r.occurred_at)!,
    recordedAt: iso(r.recorded_at)!,
    causationId: r.causation_id,
    data: r.data,
  }));
  return { memberId: q.memberId, entries, nextBefore: more ? entries[entries.length - 1].sequence : null };
}

// ---------------------------------------------------------------------------
// Analytics
// ---------------------------------------------------------------------------

export interface SummaryQuery extends SchemaOption {
  /** Default now. */
  readonly asOf?: Date | string;
  /** Active = a purchase in the last N days before asOf (default 90). */
  readonly activeDays?: number;
  /**
   * Value of one point in minor currency units (may be fractional, e.g. 0.5).
   * Liability = floor(points outstanding x pointValueMinor). Default 1.
   */
  readonly pointValueMinor?: number;
}

export interface AnalyticsSummary {
  readonly members: number;
  readonly activeMembers: number;
  readonly pointsIssued: number;
  readonly pointsRedeemed: number;
  readonly pointsExpired: number;
  readonly pointsReversed: number;
  readonly pointsAdjusted: number;
  /** Sum of positive balances: what members can still redeem. */
  readonly pointsOutstanding: number;
  /** Sum of negative balances (<= 0): points members owe after reversals / adjustments. */
  readonly pointsOwedByMembers: number;
  /** Points left in open lots (should equal pointsOutstanding when the ledger is consistent). */
  readonly lotsOutstanding: number;
  readonly liability: { readonly minorUnits: number; readonly pointValueMinor: number };
  readonly asOf: string;
}

export async function getAnalyticsSummary(client: Queryable, q: SummaryQuery = {}): Promise<AnalyticsSummary> {
  const s = schemaPrefix(q.schema);
  const asOf = new Date(q.asOf ?? Date.now()).toISOString();
  const pointValue = q.pointValueMinor ?? 1;
  if (!(pointValue >= 0) || !Number.isFinite(pointValue)) throw new RangeError('pointValueMinor must be a finite number >= 0');
  const { rows } = await client.query(
    `WITH t AS (${summarySql(s, '$1::timestamptz', '$2::int')})
     SELECT t.*, floor(t.points_outstanding * $3::numeric)::bigint AS liability,
            (SELECT COALESCE(sum(remaining), 0)::bigint FROM ${s}points_lots WHERE remaining > 0) AS lots_outstanding
     FROM t`,
    [asOf, q.activeDays ?? DEFAULT_ACTIVE_DAYS, String(pointValue)],
  );
  const r = rows[0];
  return {
    members: int(r.members),
    activeMembers: int(r.active_members),
    pointsIssued: int(r.points_issued),
    pointsRedeemed: int(r.points_redeemed),
    pointsExpired: int(r.points_expired),
    pointsReversed: int(r.points_reversed),
    pointsAdjusted: int(r.points_adjusted),
    pointsOutstanding: int(r.points_outstanding),
    pointsOwedByMembers: int(r.points_owed_by_members),
    lotsOutstanding: int(r.lots_outstanding),
    liability: { minorUnits: int(r.liability), pointValueMinor: pointValue },
    asOf,
  };
}

export interface DailyRow {
  readonly day: string; // YYYY-MM-DD (UTC)
  readonly purchases: number;
  readonly revenue: number;
  readonly refunds: number;
  readonly refunded: number;
  readonly netRevenue: number;
  readonly pointsIssued: number;
  readonly pointsRedeemed: number;
  readonly pointsExpired: number;
  readonly pointsReversed: number;
  readonly pointsAdjusted: number;
  readonly redemptions: number;
  readonly newMembers: number;
}

/** Per UTC day in [from, to] (inclusive, `YYYY-MM-DD`); days without events are returned as zeros. */
export async function getAnalyticsDaily(client: Queryable, q: SchemaOption & { from: string; to: string }): Promise<DailyRow[]> {
  const s = schemaPrefix(q.schema);
  const { rows } = await client.query(
    `SELECT to_char(g.day, 'YYYY-MM-DD') AS day,
        COALESCE(sum(d.purchases), 0)::bigint AS purchases, COALESCE(sum(d.revenue), 0)::bigint AS revenue,
        COALESCE(sum(d.refunds), 0)::bigint AS refunds, COALESCE(sum(d.refunded), 0)::bigint AS refunded,
        COALESCE(sum(d.points_issued), 0)::bigint AS points_issued, COALESCE(sum(d.points_redeemed), 0)::bigint AS points_redeemed,
        COALESCE(sum(d.points_expired), 0)::bigint AS points_expired, COALESCE(sum(d.points_reversed), 0)::bigint AS points_reversed,
        COALESCE(sum(d.points_adjusted), 0)::bigint AS points_adjusted, COALESCE(sum(d.redemptions), 0)::bigint AS redemptions,
        COALESCE(sum(d.new_members), 0)::bigint AS new_members
     FROM generate_series($1::date, $2::date, interval '1 day') AS g(day)
     LEFT JOIN ${s}daily_stats d ON d.day = g.day::date
     GROUP BY g.day ORDER BY g.day`,
    [q.from, q.to],
  );
  return rows.map((r: any) => ({
    day: r.day,
    purchases: int(r.purchases),
    revenue: int(r.revenue),
    refunds: int(r.refunds),
    refunded: int(r.refunded),
    netRevenue: int(r.revenue) - int(r.refunded),
    pointsIssued: int(r.points_issued),
    pointsRedeemed: int(r.points_redeemed),
    pointsExpired: int(r.points_expired),
    pointsReversed: int(r.points_reversed),
    pointsAdjusted: int(r.points_adjusted),
    redemptions: int(r.redemptions),
    newMembers: int(r.new_members),
  }));
}

/** Members per tier, most first; `tiers` (the programme's) are listed too where nobody holds them, with 0. */
export async function getTierDistribution(client: Queryable, q: SchemaOption & { tiers?: readonly string[] } = {}): Promise<{ tier: string | null; members: number }[]> {
  const s = schemaPrefix(q.schema);
  const { rows } = await client.query(`SELECT tier, count(*)::bigint AS members FROM ${s}member_balances GROUP BY tier ORDER BY members DESC, tier`);
  const held = rows.map((r: any) => ({ tier: r.tier as string | null, members: int(r.members) }));
  const named = new Set(held.map((t) => t.tier));
  return [...held, ...(q.tiers ?? []).filter((t) => !named.has(t)).map((tier) => ({ tier, members: 0 }))];
}

export interface ChannelPerformance {
  readonly channel: string | null;
  readonly purchases: number;
  readonly purchasers: number;
  readonly revenue: number;
  readonly refunded: number;
  readonly netRevenue: number;
  readonly avgNetBasket: number;
  readonly pointsEarned: number;
  readonly revenueShare: number;
}

/** The `analytics.channel_performance` figures, by net revenue (highest first). */
export async function getChannelPerformance(client: Queryable, q: SchemaOption = {}): Promise<ChannelPerformance[]> {
  const s = schemaPrefix(q.schema);
  const { rows } = await client.query(`SELECT * FROM (${channelPerformanceSql(s)}) c ORDER BY net_revenue DESC, channel NULLS LAST`);
  return rows.map((r: any) => ({
    channel: r.channel,
    purchases: int(r.purchases),
    purchasers: int(r.purchasers),
    revenue: int(r.revenue),
    refunded: int(r.refunded),
    netRevenue: int(r.net_revenue),
    avgNetBasket: int(r.avg_net_basket),
    pointsEarned: int(r.points_earned),
    revenueShare: Number(r.revenue_share ?? 0),
  }));
}

export interface Cohort {
  readonly cohort: string; // YYYY-MM
  readonly size: number;
  /** Index k = k months after the enrolment month (0 = the enrolment month itself). */
  readonly months: { readonly month: string; readonly monthsSince: number; readonly activeMembers: number; readonly retention: number }[];
}

export async function getCohorts(client: Queryable, q: SchemaOption & { asOf?: Date | string } = {}): Promise<Cohort[]> {
  const s = schemaPrefix(q.schema);
  const asOf = new Date(q.asOf ?? Date.now()).toISOString();
  const { rows } = await client.query(
    `SELECT to_char(cohort_month, 'YYYY-MM') AS cohort, to_char(month, 'YYYY-MM') AS month, months_since, cohort_size, active_members, retention
     FROM (${cohortRetentionSql(s, '$1::timestamptz')}) c ORDER BY cohort_month, month`,
    [asOf],
  );
  const out: Cohort[] = [];
  for (const r of rows as any[]) {
    let c = out[out.length - 1];
    if (!c || c.cohort !== r.cohort) out.push((c = { cohort: r.cohort, size: int(r.cohort_size), months: [] }));
    c.months.push({ month: r.month, monthsSince: r.months_since, activeMembers: int(r.active_members), retention: Number(r.retention) });
  }
  return out;
}

export interface Segments {
  readonly segments: { readonly segment: string; readonly members: number; readonly revenue: number; readonly revenueShare: number }[];
  readonly top20: { readonly purchasers: number; readonly topMembers: number; readonly topRevenue: number; readonly totalRevenue: number; readonly share: number };
  readonly asOf: string;
}

/** RFM segments (every segment listed, zeros included) and the revenue share of the top 20 % of purchasing members. */
export async function getSegments(client: Queryable, q: SchemaOption & { asOf?: Date | string } = {}): Promise<Segments> {
  const s = schemaPrefix(q.schema);
  const asOf = new Date(q.asOf ?? Date.now()).toISOString();
  const seg = await client.query(rfmSegmentsSql(s, '$1::timestamptz'), [asOf]);
  const top = await client.query(revenueConcentrationSql(s));
  const bySegment = new Map((seg.rows as any[]).map((r) => [r.segment, r]));
  const t = top.rows[0];
  return {
    segments: RFM_SEGMENTS.map((name) => {
      const r = bySegment.get(name);
      return { segment: name, members: int(r?.members ?? 0), revenue: int(r?.revenue ?? 0), revenueShare: Number(r?.revenue_share ?? 0) };
    }),
    top20: {
      purchasers: int(t.purchasers),
      topMembers: int(t.top_members),
      topRevenue: int(t.top_revenue),
      totalRevenue: int(t.total_revenue),
      share: Number(t.top20_share),
    },
    asOf,
  };
}

export interface ProgrammeKpis {
  readonly purchasers: number;
  readonly repeatPurchasers: number;
  /** repeatPurchasers / purchasers */
  readonly repeatPurchaseRate: number;
  readonly members: number;
  readonly redeemers: number;
  /** redeemers / members */
  readonly memberRedemptionRate: number;
  readonly pointsIssued: number;
  readonly pointsRedeemed: number;
  /** pointsRedeemed / pointsIssued */
  readonly pointsRedemptionRate: number;
}

async function kpis(client: Queryable, q: SchemaOption): Promise<ProgrammeKpis> {
  const { rows } = await client.query(kpisSql(schemaPrefix(q.schema)));
  const r = rows[0];
  return {
    purchasers: int(r.purchasers),
    repeatPurchasers: int(r.repeat_purchasers),
    repeatPurchaseRate: Number(r.repeat_purchase_rate),
    members: int(r.members),
    redeemers: int(r.redeemers),
    memberRedemptionRate: Number(r.member_redemption_rate),
    pointsIssued: int(r.points_issued),
    pointsRedeemed: int(r.points_redeemed),
    pointsRedemptionRate: Number(r.points_redemption_rate),
  };
}

export async function getRepeatPurchaseRate(client: Queryable, q: SchemaOption = {}) {
  const k = await kpis(client, q);
  return { purchasers: k.purchasers, repeatPurchasers: k.repeatPurchasers, rate: k.repeatPurchaseRate };
}

export async function getRedemptionRate(client: Queryable, q: SchemaOption = {}) {
  const k = await kpis(client, q);
  return {
    members: k.members,
    redeemers: k.redeemers,
    memberRate: k.memberRedemptionRate,
    pointsIssued: k.pointsIssued,
    pointsRedeemed: k.pointsRedeemed,
    pointsRate: k.pointsRedemptionRate,
  };
}

export { kpis as getProgrammeKpis };

/** Outstanding lots expiring at or before `asOf` (the expiry scheduler's work list), oldest first. */
export async function getExpiringLots(
  client: Queryable,
  q: SchemaOption & { asOf: Date | string; limit?: number },
): Promise<{ memberId: string; lotId: string; remaining: number; expiresAt: string }[]> {
  const s = schemaPrefix(q.schema);
  const { rows } = await client.query(
    `SELECT member_id, lot_id, remaining, expires_at FROM ${s}points_lots
     WHERE remaining > 0 AND expires_at <= $1 ORDER BY expires_at, member_id, lot_id LIMIT $2`,
    [new Date(q.asOf).toISOString(), q.limit ?? 1000],
  );
  return rows.map((r: any) => ({ memberId: r.member_id, lotId: r.lot_id, remaining: int(r.remaining), expiresAt: iso(r.expires_at)! }));
}

