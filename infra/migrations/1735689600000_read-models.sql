-- Read models of the loyalty ledger (libs/read-models). Everything here is
-- rebuilt from loyalty.events; nothing is the only copy of a fact.
--
-- Table names are UNQUALIFIED on purpose: the runner (libs/read-models/src/postgres/migrate.ts)
-- sets search_path to the target schema, so the same file builds the live schema
-- and any shadow schema of a replay. The `analytics` views are NOT created here:
-- a view binds to the tables it was created over, so they are (re)published over
-- the live schema by publishAnalytics() after a migration and after a swap.
--
-- Integers are bigint (points; money in minor units), never floating point.
-- Identifier columns are COLLATE "C": byte-order comparisons (cheap B-tree work, and
-- the same order as Redis uses to break leaderboard ties).
-- Tables written by several partitions at once (daily_stats) carry the Kafka
-- partition in their key, so concurrent partition projectors never contend.

-- Up Migration

-- The exactly-once marker: the next offset to apply, moved in the same
-- transaction as the rows.
CREATE TABLE projection_offsets (
  projection  text        NOT NULL,
  topic       text        NOT NULL,
  partition   integer     NOT NULL,
  next_offset bigint      NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, topic, partition)
);

-- One row per member: the balance route plus profile and purchase facts.
CREATE TABLE member_balances (
  member_id          text COLLATE "C" PRIMARY KEY,
  available          bigint NOT NULL DEFAULT 0,
  lifetime_earned    bigint NOT NULL DEFAULT 0,
  lifetime_redeemed  bigint NOT NULL DEFAULT 0,
  lifetime_expired   bigint NOT NULL DEFAULT 0,
  lifetime_reversed  bigint NOT NULL DEFAULT 0,
  lifetime_adjusted  bigint NOT NULL DEFAULT 0,
  tier               text,
  purchase_count     bigint NOT NULL DEFAULT 0,
  refund_count       bigint NOT NULL DEFAULT 0,
  redemption_count   bigint NOT NULL DEFAULT 0,
  spend              bigint NOT NULL DEFAULT 0, -- purchase amounts less refunded amounts, minor units
  first_purchase_at  timestamptz,
  last_purchase_at   timestamptz,
  sequence           bigint NOT NULL DEFAULT 0,
  enrolled_at        timestamptz,
  source             text,
  name               text,
  email              text,
  birthday           text,
  referred_by        text,
  referrals          bigint NOT NULL DEFAULT 0,
  updated_at         timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80); -- room for HOT updates: every batch updates its members' rows

-- Every event of every member, in member order: the statement.
CREATE TABLE ledger_entries (
  member_id     text COLLATE "C"        NOT NULL,
  sequence      bigint      NOT NULL,
  event_id      text        NOT NULL,
  type          text        NOT NULL,
  version       integer     NOT NULL,
  points_delta  bigint      NOT NULL,
  balance_after bigint      NOT NULL,
  occurred_at   timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL,
  causation_id  text,
  data          json        NOT NULL, -- json, not jsonb: validated but not re-encoded, ~2x cheaper to insert
  PRIMARY KEY (member_id, sequence)
);

CREATE TABLE tier_history (
  member_id   text COLLATE "C"        NOT NULL,
  sequence    bigint      NOT NULL,
  from_tier   text,                 -- null for the tier given at enrolment
  to_tier     text        NOT NULL,
  reason      text        NOT NULL, -- enrolment, upgrade, review
  as_of       timestamptz,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (member_id, sequence)
);

CREATE TABLE redemptions (
  member_id     text COLLATE "C"        NOT NULL,
  redemption_id text COLLATE "C"        NOT NULL,
  sequence      bigint      NOT NULL,
  reward_id     text,
  reference     text,
  points        bigint      NOT NULL,
  lots          jsonb       NOT NULL,
  occurred_at   timestamptz NOT NULL,
  PRIMARY KEY (member_id, redemption_id)
);

-- Points lots: what each earning (or positive adjustment) opened and what is
-- left of it. Outstanding lots (remaining > 0) drive expiry scheduling and liability.
CREATE TABLE points_lots (
  member_id  text COLLATE "C"        NOT NULL,
  lot_id     text COLLATE "C"        NOT NULL,
  cause      text        NOT NULL,
  points     bigint      NOT NULL,
  remaining  bigint      NOT NULL,
  earned_at  timestamptz NOT NULL,
  expires_at timestamptz,
  PRIMARY KEY (member_id, lot_id)
) WITH (fillfactor = 85);
CREATE INDEX points_lots_outstanding_by_expiry ON points_lots (expires_at) WHERE remaining > 0;

CREATE TABLE purchases (
  member_id       text COLLATE "C"        NOT NULL,
  purchase_id     text COLLATE "C"        NOT NULL,
  sequence        bigint      NOT NULL,
  amount          bigint      NOT NULL,
  currency        text        NOT NULL,
  channel         text,
  store_id        text,
  occurred_at     timestamptz NOT NULL,
  refunded        bigint      NOT NULL DEFAULT 0,
  refund_count    integer     NOT NULL DEFAULT 0,
  points_earned   bigint      NOT NULL DEFAULT 0,
  points_reversed bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (member_id, purchase_id)
) WITH (fillfactor = 90);

-- Per member and calendar month (UTC) of the event: cohorts and retention.
CREATE TABLE member_months (
  member_id     text COLLATE "C"   NOT NULL,
  month         date   NOT NULL,
  purchases     bigint NOT NULL DEFAULT 0,
  revenue       bigint NOT NULL DEFAULT 0,
  refunded      bigint NOT NULL DEFAULT 0,
  points_earned bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (member_id, month)
);

-- Per UTC day of the event and Kafka partition (sum over partitions to read).
CREATE TABLE daily_stats (
  day             date    NOT NULL,
  partition       integer NOT NULL,
  purchases       bigint  NOT NULL DEFAULT 0,
  revenue         bigint  NOT NULL DEFAULT 0,
  refunds         bigint  NOT NULL DEFAULT 0,
  refunded        bigint  NOT NULL DEFAULT 0,
  points_issued   bigint  NOT NULL DEFAULT 0,
  points_redeemed bigint  NOT NULL DEFAULT 0,
  points_expired  bigint  NOT NULL DEFAULT 0,
  points_reversed bigint  NOT NULL DEFAULT 0,
  points_adjusted bigint  NOT NULL DEFAULT 0,
  redemptions     bigint  NOT NULL DEFAULT 0,
  new_members     bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (day, partition)
);

-- Down Migration
DROP TABLE IF EXISTS daily_stats;
DROP TABLE IF EXISTS member_months;
DROP TABLE IF EXISTS purchases;
DROP TABLE IF EXISTS points_lots;
DROP TABLE IF EXISTS redemptions;
DROP TABLE IF EXISTS tier_history;
DROP TABLE IF EXISTS ledger_entries;
DROP TABLE IF EXISTS member_balances;
DROP TABLE IF EXISTS projection_offsets;
