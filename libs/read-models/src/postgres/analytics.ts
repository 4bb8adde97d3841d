// The analysts' SQL surface: schema `analytics`, views over the LIVE read-model
// schema, and the read-only role `loyalty_analyst`.
//
// Why views are published here and not in infra/migrations: migrations run with
// unqualified names into any schema (live or a replay's shadow). A view is bound
// to the tables it was created over (by OID, not by name), so
//   - creating them in a migration would point `analytics` at whatever schema was
//     migrated last (a shadow!), and
//   - after a swap (ALTER SCHEMA ... RENAME) they would still read the retired tables.
// So publishAnalytics() (re)creates every view over one named schema, in one
// transaction, and swapSchemas() renames and republishes in ONE transaction:
// analysts never see a half-swapped state.
//
// The SQL of the parameterised analytics (as-of date) lives here as builders so
// the views (as of now()) and the query functions (as of any date) share one text.
//
// Views are owned by the migrating user, so `loyalty_analyst` needs (and has) no
// privilege on the base tables. Personal data (name, email, birthday) is left out
// of the views.
import { Queryable, quoteIdent } from './sql';

export const ANALYST_ROLE = 'loyalty_analyst';

/** Active = purchased in the last N days. */
export const DEFAULT_ACTIVE_DAYS = 90;

/** Per member: recency, frequency, monetary, their 1..5 scores and the segment. */
export function rfmMembersSql(s: string, asOf: string): string {
  // Scores are quintiles by percent_rank, so equal values share a score:
  // 1 + floor(percent_rank * 5), capped at 5. Recency: the more recent, the higher.
  return `WITH base AS (
    SELECT member_id, last_purchase_at, purchase_count AS frequency, spend AS monetary,
           GREATEST(0, floor(extract(epoch FROM (${asOf} - last_purchase_at)) / 86400))::int AS recency_days
    FROM ${s}member_balances WHERE purchase_count > 0
  ), scored AS (
    SELECT *,
      LEAST(5, 1 + floor(percent_rank() OVER (ORDER BY last_purchase_at) * 5))::int AS r,
      LEAST(5, 1 + floor(percent_rank() OVER (ORDER BY frequency) * 5))::int AS f,
      LEAST(5, 1 + floor(percent_rank() OVER (ORDER BY monetary) * 5))::int AS m
    FROM base
  )
  SELECT member_id, recency_days, frequency, monetary, r, f, m,
    CASE
      WHEN r >= 4 AND f >= 4 THEN 'champions'
      WHEN r >= 3 AND f >= 3 THEN 'loyal'
      WHEN r >= 4 THEN 'new'
      WHEN r >= 3 THEN 'promising'
      WHEN f >= 3 THEN 'at_risk'
      WHEN r = 2 THEN 'hibernating'
      ELSE 'lost'
    END AS segment
  FROM scored`;
}

export const RFM_SEGMENTS = ['champions', 'loyal', 'new', 'promising', 'at_risk', 'hibernating', 'lost'] as const;

export function rfmSegmentsSql(s: string, asOf: string): string {
  return `WITH x AS (${rfmMembersSql(s, asOf)})
  SELECT segment, count(*)::bigint AS members, sum(monetary)::bigint AS revenue,
         round(CASE WHEN sum(sum(monetary)) OVER () = 0 THEN 0 ELSE sum(monetary) / sum(sum(monetary)) OVER () END, 6) AS revenue_share
  FROM x GROUP BY segment`;
}

/** Revenue (spend, net of refunds) share of the top 20 % of purchasing members: top = ceil(purchasers / 5). */
export function revenueConcentrationSql(s: string): string {
  return `WITH p AS (
    SELECT spend, row_number() OVER (ORDER BY spend DESC, member_id) AS rn, count(*) OVER () AS n
    FROM ${s}member_balances WHERE purchase_count > 0
  )
  SELECT count(*)::bigint AS purchasers,
         COALESCE((max(n) + 4) / 5, 0)::bigint AS top_members,
         COALESCE(sum(spend) FILTER (WHERE rn <= (n + 4) / 5), 0)::bigint AS top_revenue,
         COALESCE(sum(spend), 0)::bigint AS total_revenue,
         round(CASE WHEN COALESCE(sum(spend), 0) = 0 THEN 0
                    ELSE COALESCE(sum(spend) FILTER (WHERE rn <= (n + 4) / 5), 0)::numeric / sum(spend) END, 6) AS top20_share
  FROM p`;
}

/** Monthly enrolment cohorts (UTC) and, for every month from enrolment to as-of, the members who purchased. */
export function cohortRetentionSql(s: string, asOf: string): string {
  return `WITH members AS (
    SELECT member_id, date_trunc('month', enrolled_at AT TIME ZONE 'UTC')::date AS cohort
    FROM ${s}member_balances WHERE enrolled_at IS NOT NULL
  ), sizes AS (
    SELECT cohort, count(*) AS cohort_size FROM members GROUP BY cohort
  ), grid AS (
    SELECT z.cohort, z.cohort_size, g::date AS month
    FROM sizes z, generate_series(z.cohort::timestamp, date_trunc('month', ${asOf} AT TIME ZONE 'UTC'), interval '1 month') g
  ), active AS (
    SELECT m.cohort, mm.month, count(*) AS active
    FROM members m JOIN ${s}member_months mm ON mm.member_id = m.member_id
    WHERE mm.purchases > 0 GROUP BY m.cohort, mm.month
  )
  SELECT g.cohort AS cohort_month, g.month,
         ((extract(year FROM g.month)::int - extract(year FROM g.cohort)::int) * 12
           + extract(month FROM g.month)::int - extract(month FROM g.cohort)::int) AS months_since,
         g.cohort_size::bigint AS cohort_size, COALESCE(a.active, 0)::bigint AS active_members,
         round(COALESCE(a.active, 0)::numeric / g.cohort_size, 6) AS retention
  FROM grid g LEFT JOIN active a ON a.cohort = g.cohort AND a.month = g.month`;
}

export function summarySql(s: string, asOf: string, activeDays: string): string {
  return `SELECT count(*)::bigint AS members,
    count(*) FILTER (WHERE last_purchase_at > ${asOf} - make_interval(days => ${activeDays}) AND last_purchase_at <= ${asOf})::bigint AS active_members,
    COALESCE(sum(lifetime_earned), 0)::bigint AS points_issued,
    COALESCE(sum(lifetime_redeemed), 0)::bigint AS points_redeemed,
    COALESCE(sum(lifetime_expired), 0)::bigint AS points_expired,
    COALESCE(sum(lifetime_reversed), 0)::bigint AS points_reversed,
    COALESCE(sum(lifetime_adjusted), 0)::bigint AS points_adjusted,
    COALESCE(sum(GREATEST(available, 0)), 0)::bigint AS points_outstanding,
    COALESCE(sum(LEAST(available, 0)), 0)::bigint AS points_owed_by_members,
    COALESCE(sum(spend), 0)::bigint AS spend
  FROM ${s}member_balances`;
}

export function kpisSql(s: string): string {
  return `SELECT
    count(*) FILTER (WHERE purchase_count > 0)::bigint AS purchasers,
    count(*) FILTER (WHERE purchase_count >= 2)::bigint AS repeat_purchasers,
    round(CASE WHEN count(*) FILTER (WHERE purchase_count > 0) = 0 THEN 0
               ELSE (count(*) FILTER (WHERE purchase_count >= 2))::numeric / count(*) FILTER (WHERE purchase_count > 0) END, 6) AS repeat_purchase_rate,
    count(*)::bigint AS members,
    count(*) FILTER (WHERE redemption_count > 0)::bigint AS redeemers,
    round(CASE WHEN count(*) = 0 THEN 0 ELSE (count(*) FILTER (WHERE redemption_count > 0))::numeric / count(*) END, 6) AS member_redemption_rate,
    COALESCE(sum(lifetime_earned), 0)::bigint AS points_issued,
    COALESCE(sum(lifetime_redeemed), 0)::bigint AS points_redeemed,
    round(CASE WHEN COALESCE(sum(lifetime_earned), 0) = 0 THEN 0 ELSE sum(lifetime_redeemed)::numeric / sum(lifetime_earned) END, 6) AS points_redemption_rate
  FROM ${s}member_balances`;
}

/**
 * Per purchase channel (null: the upstream system named none): purchases, purchasing
 * members, gross and net revenue, the average net basket (rounded to a minor unit), and the points those purchases
 * earned net of reversals. Which channels the members use, and what each is worth.
 */
export function channelPerformanceSql(s: string): string {
  return `SELECT channel, count(*)::bigint AS purchases, count(DISTINCT member_id)::bigint AS purchasers,
      sum(amount)::bigint AS revenue, sum(refunded)::bigint AS refunded, (sum(amount) - sum(refunded))::bigint AS net_revenue,
      round((sum(amount) - sum(refunded)) / count(*))::bigint AS avg_net_basket,
      (sum(points_earned) - sum(points_reversed))::bigint AS points_earned,
      round((sum(amount) - sum(refunded))::numeric / NULLIF(sum(sum(amount) - sum(refunded)) OVER (), 0), 6) AS revenue_share
    FROM ${s}purchases GROUP BY channel`;
}

/** The views: name -> SELECT over schema prefix `s`. Documented in COMMENTs below. */
export function analyticsViews(s: string): Record<string, { sql: string; comment: string }> {
  const now = 'now()';
  return {
    member_balances: {
      comment: 'One row per member, the meanings of GET /v1/members/{id}/balance; spend = purchase amounts less refunds (minor units). No personal data.',
      sql: `SELECT member_id, available, lifetime_earned, lifetime_redeemed, lifetime_expired, lifetime_reversed, lifetime_adjusted, tier,
              purchase_count, spend, last_purchase_at, sequence, first_purchase_at, refund_count, redemption_count, enrolled_at, source, referred_by, referrals
            FROM ${s}member_balances`,
    },
    ledger_entries: {
      comment: 'Every event of every member in member order, with points_delta and balance_after (personal data removed from enrolment events).',
      sql: `SELECT member_id, sequence, event_id, type, version, points_delta, balance_after, occurred_at, recorded_at, causation_id,
              CASE WHEN type = 'MemberEnrolled' THEN data::jsonb - 'name' - 'email' - 'birthday' ELSE data::jsonb END AS data
            FROM ${s}ledger_entries`,
    },
    daily_points: {
      comment: 'Per UTC day of the events: purchases, revenue (gross), refunds, refunded, net revenue, points issued / redeemed / expired / reversed / adjusted, redemptions, new members.',
      sql: `SELECT day, sum(purchases)::bigint AS purchases, sum(revenue)::bigint AS revenue, sum(refunds)::bigint AS refunds,
              sum(refunded)::bigint AS refunded, (sum(revenue) - sum(refunded))::bigint AS net_revenue,
              sum(points_issued)::bigint AS points_issued, sum(points_redeemed)::bigint AS points_redeemed,
              sum(points_expired)::bigint AS points_expired, sum(points_reversed)::bigint AS points_reversed,
              sum(points_adjusted)::bigint AS points_adjusted, sum(redemptions)::bigint AS redemptions, sum(new_members)::bigint AS new_members
            FROM ${s}daily_stats GROUP BY day`,
    },
    tier_distribution: {
      comment: 'Members per current tier and their share.',
      sql: `SELECT tier, count(*)::bigint AS members, round(count(*)::numeric / sum(count(*)) OVER (), 6) AS share
            FROM ${s}member_balances GROUP BY tier`,
    },
    tier_history: {
      comment: 'Every tier a member was given: at enrolment (from_tier null), upgrades and reviews.',
      sql: `SELECT member_id, sequence, from_tier, to_tier, reason, as_of, occurred_at FROM ${s}tier_history`,
    },
    cohort_retention: {
      comment: 'Monthly enrolment cohorts (UTC) x every month since: cohort size, members who purchased in that month, retention = active / size.',
      sql: cohortRetentionSql(s, now),
    },
    rfm_members: {
      comment: 'Per purchasing member, as of now: recency (days), frequency (purchases), monetary (spend), quintile scores r, f, m (1..5) and segment.',
      sql: rfmMembersSql(s, now),
    },
    rfm_segments: {
      comment: 'RFM segments as of now: members, revenue (spend) and revenue share.',
      sql: rfmSegmentsSql(s, now),
    },
    revenue_concentration: {
      comment: 'Revenue share of the top 20 % of purchasing members (top = ceil(purchasers / 5), by spend).',
      sql: revenueConcentrationSql(s),
    },
    channel_performance: {
      comment: 'Per purchase channel: purchases, purchasing members, revenue (gross, refunded, net), average net basket, points earned net of reversals, share of net revenue (minor units, points).',
      sql: channelPerformanceSql(s),
    },
    programme_kpis: {
      comment: 'Repeat-purchase rate (purchasers with 2+ purchases / purchasers) and redemption rates (members who redeemed / members; points redeemed / issued).',
      sql: kpisSql(s),
    },
    points_summary: {
      comment: 'Members, active members (purchase in the last 90 days), points issued / redeemed / expired / reversed / adjusted / outstanding. Liability = points_outstanding x point value.',
      sql: summarySql(s, now, String(DEFAULT_ACTIVE_DAYS)),
    },
    outstanding_lots: {
      comment: 'Points lots with points left, by expiry: expiry scheduling and liability ageing.',
      sql: `SELECT member_id, lot_id, cause, points, remaining, earned_at, expires_at FROM ${s}points_lots WHERE remaining > 0`,
    },
    purchases: {
      comment: 'Every purchase with refunded amount and the points it earned / had reversed (minor units, points).',
      sql: `SELECT member_id, purchase_id, amount, currency, channel, store_id, occurred_at, refunded, amount - refunded AS net_amount,
              refund_count, points_earned, points_reversed FROM ${s}purchases`,
    },
    redemptions: {
      comment: 'Every redemption: reward, points, lots spent.',
      sql: `SELECT member_id, redemption_id, sequence, reward_id, reference, points, lots, occurred_at FROM ${s}redemptions`,
    },
  };
}

export interface PublishAnalyticsOptions {
  /** The live read-model schema the views read. */
  readonly schema: string;
  readonly analyticsSchema?: string;
  /** Default true: BEGIN/COMMIT here. false: inside the caller's transaction. */
  readonly ownTransaction?: boolean;
}

/**
 * Creates the analyst role if missing. It can log in, so that analysts' SQL clients connect
 * as it; it has no password: where the server asks for one, the operator sets it. Roles are
 * cluster-wide: tolerate another session creating it at the same time.
 */
export async function ensureAnalystRole(client: Queryable): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${ANALYST_ROLE}') THEN
          CREATE ROLE ${ANALYST_ROLE} LOGIN;
        ELSIF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = '${ANALYST_ROLE}') THEN
          ALTER ROLE ${ANALYST_ROLE} LOGIN; -- created NOLOGIN by earlier versions
        END IF;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
      return;
    } catch (err) {
      if (attempt >= 4) throw err; // e.g. "tuple concurrently updated"
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }
}

/** (Re)creates schema `analytics` and all its views over `schema`, grants SELECT to the analyst role. */
export async function publishAnalytics(client: Queryable, options: PublishAnalyticsOptions): Promise<void> {
  const a = quoteIdent(options.analyticsSchema ?? 'analytics');
  const s = `${quoteIdent(options.schema)}.`;
  await ensureAnalystRole(client);
  const own = options.ownTransaction ?? true;
  if (own) await client.query('BEGIN');
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${a}`);
    // Serialise publishers (two migrators, or a swap racing a migrate).
    await client.query(`LOCK TABLE ${s}projection_offsets IN SHARE ROW EXCLUSIVE MODE`);
    await client.query(`REVOKE ALL ON SCHEMA ${a} FROM PUBLIC`);
    await client.query(`GRANT USAGE ON SCHEMA ${a} TO ${ANALYST_ROLE}`);
    const views = analyticsViews(s);
    for (const name of Object.keys(views)) await client.query(`DROP VIEW IF EXISTS ${a}.${quoteIdent(name)} CASCADE`);
    for (const [name, v] of Object.entries(views)) {
      await client.query(`CREATE VIEW ${a}.${quoteIdent(name)} AS ${v.sql}`);
      await client.query(`COMMENT ON VIEW ${a}.${quoteIdent(name)} IS '${v.comment.replace(/'/g, "''")}'`);
    }
    await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${a} FROM PUBLIC`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${a} TO ${ANALYST_ROLE}`);
    if (own) await client.query('COMMIT');
  } catch (err) {
    if (own) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export interface SwapSchemasOptions {
  /** The live schema, e.g. `loyalty`. */
  readonly live: string;
  /** The rebuilt shadow schema that becomes live. */
  readonly shadow: string;
  /** What the old live schema is renamed to (kept for inspection; drop it later). */
  readonly retired: string;
  readonly analyticsSchema?: string;
}

/**
 * The replay's swap, in ONE transaction: live -> retired, shadow -> live, views
 * re-created over the new live tables. The shadow carries its own projection_offsets,
 * so the live projector resumes from the shadow's offsets (stop it, or let it fail
 * its current batch, around the swap: its in-flight transaction would land in the
 * retired schema, which is harmless).
 */
export async function swapSchemas(client: Queryable, o: SwapSchemasOptions): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`ALTER SCHEMA ${quoteIdent(o.live)} RENAME TO ${quoteIdent(o.retired)}`);
    await client.query(`ALTER SCHEMA ${quoteIdent(o.shadow)} RENAME TO ${quoteIdent(o.live)}`);
    await publishAnalytics(client, { schema: o.live, analyticsSchema: o.analyticsSchema, ownTransaction: false });
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
