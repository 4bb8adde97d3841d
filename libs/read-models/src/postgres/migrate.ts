// Schema management for the Postgres read model.
//
// - migrate(): runs the plain-SQL migrations of infra/migrations with
//   node-pg-migrate into ANY schema (live or a replay's shadow): the runner sets
//   search_path to that schema and keeps its bookkeeping table there too, so a
//   shadow schema is complete and independent, and dropping it drops everything.
// - Then, for the live schema only (analytics: true, the default), it publishes
//   the `analytics` views over that schema (see analytics.ts for why views are not
//   migrations: a view binds to the tables it was created over, so after a swap the
//   views must be re-created over the new live schema; swapSchemas() does both in
//   one transaction).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { publishAnalytics } from './analytics';
import { quoteIdent } from './sql';

export interface MigrateOptions {
  readonly connectionString: string;
  /** Target schema, created if missing. E.g. `loyalty` (live) or `loyalty_shadow_20250101`. */
  readonly schema: string;
  /** Publish the `analytics` views over this schema and ensure the analyst role. Default true; false for shadows. */
  readonly analytics?: boolean;
  readonly analyticsSchema?: string;
  /** Directory of the SQL migrations; default: infra/migrations of the repository. */
  readonly dir?: string;
  readonly log?: (msg: string) => void;
}

/** Finds infra/migrations walking up from this file (works from sources and from dist/). */
export function defaultMigrationsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'infra', 'migrations');
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return path.resolve(process.cwd(), 'infra', 'migrations');
}

// One advisory lock key for all migrations of this library in a database:
// node-pg-migrate's own lock is try-only (fails when another run holds it); this
// one waits, so two processes starting together both succeed.
const MIGRATE_LOCK = 7_415_623_001;

export async function migrate(options: MigrateOptions): Promise<{ ran: string[] }> {
  quoteIdent(options.schema);
  // node-pg-migrate is CommonJS; require keeps it out of the type graph of callers.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { runner } = require('node-pg-migrate') as typeof import('node-pg-migrate');
  const client = new Client({ connectionString: options.connectionString });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    const ran = await runner({
      dbClient: client,
      dir: options.dir ?? defaultMigrationsDir(),
      schema: options.schema,
      createSchema: true,
      migrationsSchema: options.schema,
      createMigrationsSchema: true,
      migrationsTable: 'pgmigrations',
      direction: 'up',
      count: Infinity,
      checkOrder: false,
      singleTransaction: true,
      noLock: true,
      log: options.log ?? (() => undefined),
    });
    await client.query('SET search_path TO DEFAULT');
    if (options.analytics ?? true) {
      await publishAnalytics(client, { schema: options.schema, analyticsSchema: options.analyticsSchema });
    }
    return { ran: ran.map((m) => m.name) };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => undefined);
    await client.end();
  }
}

/** Creates the database named in the URL if it does not exist (connects to `postgres` to do it). */
export async function createDatabaseIfMissing(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new RangeError(`no database name in ${url}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rows.length > 0) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdentLoose(name)}`);
      return true;
    } catch (err) {
      // Created concurrently by another process: fine.
      if ((err as { code?: string }).code === '42P04' || (err as { code?: string }).code === '23505') return false;
      throw err;
    }
  } finally {
    await client.end();
  }
}

/** Drops a database (tests). Terminates its other connections first. */
export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentLoose(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

function quoteIdentLoose(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
