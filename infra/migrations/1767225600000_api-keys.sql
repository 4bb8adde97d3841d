-- API keys of the HTTP API (apps/api/src/auth, `loyalty keys create|list|revoke`).
--
-- Unlike the read models, API keys are NOT rebuilt from loyalty.events: they are the
-- only copy. So they live in their own schema, `loyalty_auth`, always named in full:
-- the migration runner sets search_path to the read-model schema (live or a replay's
-- shadow) and a replay swaps that schema away, which must never take the keys with it.
-- Every migration run (live or shadow) reaches this file, hence IF NOT EXISTS.
--
-- Only a SHA-256 of the key is kept. Keys are 256 random bits, so a fast hash is as
-- safe as a slow one (there is no dictionary to try) and costs microseconds per
-- request, where scrypt/argon2 would cost tens of milliseconds of CPU on every
-- uncached request: a denial-of-service lever with no gain. `prefix` is a short,
-- non-secret hint (the first characters of the key) for people to tell keys apart.

-- Up Migration

CREATE SCHEMA IF NOT EXISTS loyalty_auth;

CREATE TABLE IF NOT EXISTS loyalty_auth.api_keys (
  id           uuid        PRIMARY KEY,
  name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  role         text        NOT NULL CHECK (role IN ('reader', 'writer', 'analyst', 'operator', 'admin')),
  key_hash     bytea       NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
  prefix       text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);

-- Down Migration

-- Nothing: the keys are the only copy and are shared by every read-model schema, so
-- rolling back one schema's migrations (a shadow's) must not drop them. Drop the
-- schema `loyalty_auth` by hand to remove every key.
