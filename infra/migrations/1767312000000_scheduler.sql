-- The expiry and tier-review scheduler's own bookkeeping (apps/projector/src/scheduler).
-- Like API keys, this is not rebuilt from the events, so it lives outside the read-model
-- schema that a replay swaps: schema `loyalty_ops`, always named in full.

-- Up Migration

CREATE SCHEMA IF NOT EXISTS loyalty_ops;

CREATE TABLE IF NOT EXISTS loyalty_ops.scheduler_runs (
  job          text        NOT NULL,
  scope        text        NOT NULL,
  as_of        timestamptz NOT NULL,
  commands     bigint      NOT NULL,
  finished_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job, scope, as_of)
);

-- Down Migration

-- Nothing: the runs are the only record of what was scheduled.
