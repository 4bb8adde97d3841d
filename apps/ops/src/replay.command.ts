// loyalty replay: rebuild the read models from loyalty.events offset 0 into a shadow
// (schema `<schema>_r<stamp>`, Redis prefix `<prefix>r<stamp>:`), catch up to the live
// head, verify the shadow against a fold of the events, then swap in one atomic step:
//   Postgres: swapPostgresShadow (blocks the live projector's next batch on the live
//             offsets table, catches the shadow up to the live offsets, renames, commits)
//   Redis:    the pointer `<prefix>active` names the live prefix; one script checks the
//             shadow's offsets against the live ones and sets it.
// The retired schema / prefix is kept until the next replay. Interrupted, a replay
// resumes from the shadow's own offsets. Two at once: the second refuses (locks).
//
// --until ISO: the state as of that instant (events recorded at or before it) into
// schema `snapshot_<yyyymmddhhmm>`, verified, never swapped.
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { pgPoolConfig, survivePoolErrors, redisOptions, type AppConfig, type Logger } from '@loyalty/config';
import { createKafka, topicNames } from '@loyalty/kafka';
import {
  activeRedisPrefix,
  initRedisPrefix,
  migrate,
  POSTGRES_PROJECTION,
  publishAnalytics,
  quoteIdent,
  redisReplayKeys,
  swapPostgresShadow,
  swapRedisPointer,
} from '@loyalty/read-models';
import type { Kafka } from 'kafkajs';
import { flag, intOption, option, UsageError } from '@loyalty/config';
import type { OpsCommand } from './commands';
import { Progress } from './progress';
import { pgLock, redisLock, type Lock } from './replay/locks';
import { projectPass, type Targets } from './replay/project';
import { deleteStoreKeys } from './replay/redis-keys';
import { formatDifferences, snapshotPostgres, snapshotRedis, verifyStores, type StoreSnapshot } from './verify/verify';

const PROJECTION = POSTGRES_PROJECTION.name;

function stamp(d = new Date()): string {
  return d.toISOString().replace(/\D/g, '').slice(0, 14);
}

const say = (m: string) => process.stderr.write(`${m}\n`);

interface Ctx {
  config: AppConfig;
  logger: Logger;
  kafka: Kafka;
  topic: string;
  pool: Pool;
  redis: Redis;
  throttleMs: number;
  batchEvents: number;
}

export const replayCommand: OpsCommand = {
  summary: 'rebuild read models from the events into a shadow, verify, swap  [--projection postgres|redis|all] [--until ISO] [--fresh] [--throttle-ms N] [--batch-events N]',
  async run({ config, logger, args }) {
    const projection = option(args, 'projection') ?? 'all';
    if (!['postgres', 'redis', 'all'].includes(projection)) throw new UsageError('--projection must be postgres, redis or all');
    const until = option(args, 'until');
    const ctx: Ctx = {
      config,
      logger,
      kafka: createKafka(config.kafka, logger, 'ops-replay'),
      topic: topicNames(config.topics.prefix).events,
      pool: survivePoolErrors(new Pool(pgPoolConfig(config, { max: 5 }))),
      redis: new Redis(config.redis.url, { ...redisOptions(config), lazyConnect: false }),
      throttleMs: intOption(args, 'throttle-ms', 0),
      batchEvents: intOption(args, 'batch-events', 0),
    };
    const locks: Lock[] = [];
    try {
      if (until !== undefined) return await snapshot(ctx, until, flag(args, 'fresh'), locks);
      return await replay(ctx, projection !== 'redis', projection !== 'postgres', flag(args, 'fresh'), locks);
    } finally {
      for (const l of locks.reverse()) await l.release();
      await ctx.pool.end().catch(() => undefined);
      ctx.redis.disconnect();
    }
  },
};

async function replay(ctx: Ctx, wantPg: boolean, wantRedis: boolean, fresh: boolean, locks: Lock[]): Promise<number> {
  const { config, pool, redis, topic } = ctx;
  const live = config.postgres.schema;
  const base = config.redis.keyPrefix;
  if (wantPg) locks.push(await pgLock(pgPoolConfig(config), `replay:${live}`, `a replay of schema ${live}`));
  if (wantRedis) locks.push(await redisLock(redis, redisReplayKeys.lock(base), `a replay of Redis prefix ${base}`));

  const targets: Targets = {};
  if (wantPg) targets.pg = { pool, schema: await pgShadow(ctx, live, fresh), projection: PROJECTION };
  if (wantRedis) targets.redis = { redis, prefix: await redisShadow(ctx, base, fresh) };

  // 1. From the shadows' own offsets (0 for new ones) to the head, then again until the
  //    passes are short: the live pipeline keeps publishing meanwhile.
  const progress = new Progress('replay');
  const started = Date.now();
  let first = 0;
  for (let pass = 1; ; pass++) {
    const r = await projectPass({
      kafka: ctx.kafka,
      topic,
      targets,
      throttleMs: ctx.throttleMs,
      batchEvents: ctx.batchEvents,
      onPlan: (n) => progress.setTotal(progress.count + n),
      onApplied: (n) => progress.add(n),
    });
    if (pass === 1) first = r.applied;
    if (r.applied < 2000 || pass >= 5) break;
  }
  progress.finish();
  const secs = (Date.now() - started) / 1000;
  say(`replayed ${progress.count} events in ${secs.toFixed(1)} s (${Math.round(progress.count / Math.max(secs, 0.001))} events/s; first pass ${first})`);

  // 2. Verify the shadows against a fold of the events, at their own offsets.
  const snapshots: StoreSnapshot[] = [];
  if (targets.pg) {
    const client = await pool.connect();
    try {
      snapshots.push(await snapshotPostgres(client, { schema: targets.pg.schema, topic }));
    } finally {
      client.release();
    }
  }
  if (targets.redis) snapshots.push(await snapshotRedis(redis, { prefix: targets.redis.prefix }));
  const vp = new Progress('verify shadow: events folded');
  const report = await verifyStores({ kafka: ctx.kafka, topic, snapshots, onEvents: (n) => vp.add(n), onPlan: (n) => vp.setTotal(n) });
  vp.finish();
  if (report.differences.length > 0 || report.stores.some((s) => !s.ready)) {
    process.stdout.write(`the shadow differs from the fold of the events: NOT swapped\n${formatDifferences(report.differences)}`);
    process.stdout.write(`shadow kept for inspection (${report.stores.map((s) => s.where).join(', ')}); run with --fresh to start over\n`);
    return 1;
  }
  say(`shadow verified: ${report.members} members, ${report.events} events, no differences`);

  // 3. Swap.
  if (targets.pg) {
    const retired = await swapPostgres(ctx, live, targets.pg.schema);
    process.stdout.write(`postgres: schema ${targets.pg.schema} is now ${live}; the previous one is kept as ${retired ?? '(none: there was no live schema)'} until the next replay\n`);
  }
  if (targets.redis) {
    const retired = await swapRedis(ctx, base, targets.redis.prefix, targets);
    process.stdout.write(`redis: ${redisReplayKeys.active(base)} -> ${targets.redis.prefix}; the previous prefix ${retired} is kept until the next replay\n`);
  }
  return 0;
}

/** The shadow schema to build: the interrupted one (resume) or a new one. */
async function pgShadow(ctx: Ctx, live: string, fresh: boolean): Promise<string> {
  const { rows } = await ctx.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname ~ $1 ORDER BY nspname DESC`, [`^${live}_r[0-9]+$`]);
  let shadow: string | undefined;
  if (rows.length > 0 && !fresh) {
    shadow = rows[0].nspname as string;
    say(`postgres: resuming the interrupted replay into schema ${shadow} (from its own offsets)`);
  } else {
    for (const r of rows) await ctx.pool.query(`DROP SCHEMA ${quoteIdent(r.nspname)} CASCADE`);
    shadow = `${live}_r${stamp()}`;
    say(`postgres: replaying into the new shadow schema ${shadow}`);
  }
  await migrate({ connectionString: ctx.config.postgres.connectionString, schema: shadow, analytics: false });
  return shadow;
}

async function redisShadow(ctx: Ctx, base: string, fresh: boolean): Promise<string> {
  const key = redisReplayKeys.shadow(base);
  let prefix = await ctx.redis.get(key);
  if (prefix && fresh) {
    await deleteStoreKeys(ctx.redis, prefix);
    prefix = null;
  }
  if (prefix) say(`redis: resuming the interrupted replay into prefix ${prefix} (from its own offsets)`);
  else {
    prefix = `${base}r${stamp()}:`;
    await ctx.redis.set(key, prefix);
    say(`redis: replaying into the new shadow prefix ${prefix}`);
  }
  await initRedisPrefix(ctx.redis, prefix, randomUUID());
  return prefix;
}

async function swapPostgres(ctx: Ctx, live: string, shadow: string): Promise<string | null> {
  const { pool, topic } = ctx;
  // The schema retired by the previous replay was kept until now.
  const old = await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname ~ $1`, [`^${live}_retired_[0-9]+$`]);
  for (const r of old.rows) await pool.query(`DROP SCHEMA ${quoteIdent(r.nspname)} CASCADE`);
  const exists = (await pool.query(`SELECT to_regclass($1) AS t`, [`${quoteIdent(live)}.projection_offsets`])).rows[0].t !== null;
  const client = await pool.connect();
  try {
    if (!exists) {
      // Nothing live (a lost database): the shadow simply becomes live.
      await client.query('BEGIN');
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(live)} CASCADE`);
      await client.query(`ALTER SCHEMA ${quoteIdent(shadow)} RENAME TO ${quoteIdent(live)}`);
      await publishAnalytics(client, { schema: live, ownTransaction: false });
      await client.query('COMMIT');
      return null;
    }
    const retired = `${live}_retired_${stamp()}`;
    const r = await swapPostgresShadow(client, {
      live,
      shadow,
      retired,
      projection: PROJECTION,
      topic,
      catchUp: async (behind) => {
        await projectPass({
          kafka: ctx.kafka,
          topic,
          targets: { pg: { pool, schema: shadow, projection: PROJECTION } },
          partitions: [...behind.keys()],
          to: new Map([...behind].map(([p, b]) => [p, b.to])),
        });
      },
    });
    if (r.caughtUp) say(`postgres: caught the shadow up on ${r.caughtUp} partition(s) while the live projector waited`);
    return retired;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function swapRedis(ctx: Ctx, base: string, shadow: string, targets: Targets): Promise<string> {
  const { redis } = ctx;
  for (let attempt = 1; attempt <= 20; attempt++) {
    const active = await activeRedisPrefix(redis, base);
    const r = await swapRedisPointer(redis, { base, expectedActive: active, shadow });
    if (r.status === 'swapped') {
      const previous = await redis.get(redisReplayKeys.retired(base));
      // The base prefix itself is never deleted: a projector that does not follow the
      // pointer yet still writes there (see the note on redisReplayKeys.active).
      if (previous && previous !== base && previous !== shadow && previous !== r.retired) await deleteStoreKeys(redis, previous);
      await redis.multi().set(redisReplayKeys.retired(base), r.retired).del(redisReplayKeys.shadow(base)).exec();
      return r.retired;
    }
    if (r.status === 'not-ready') throw new Error(`the Redis shadow ${shadow} lost its marker (flushed?): run the replay again`);
    if (r.status === 'behind') {
      // The live projector moved on meanwhile: catch up and try again.
      await projectPass({ kafka: ctx.kafka, topic: ctx.topic, targets: { redis: targets.redis } });
    }
  }
  throw new Error('the Redis shadow could not catch up with the live prefix in 20 attempts (is the live projector much faster?)');
}

async function snapshot(ctx: Ctx, until: string, fresh: boolean, locks: Lock[]): Promise<number> {
  const untilMs = Date.parse(until);
  if (Number.isNaN(untilMs)) throw new UsageError(`--until must be an ISO 8601 date-time, got ${until}`);
  if (untilMs > Date.now()) throw new UsageError('--until must not be in the future');
  const untilIso = new Date(untilMs).toISOString();
  const name = `snapshot_${untilIso.replace(/\D/g, '').slice(0, 12)}`;
  const { pool, topic } = ctx;
  locks.push(await pgLock(pgPoolConfig(ctx.config), `snapshot:${name}`, `a snapshot into ${name}`));
  const existing = await pool.query(`SELECT obj_description(oid, 'pg_namespace') AS c FROM pg_namespace WHERE nspname = $1`, [name]);
  const marker = `loyalty snapshot as of ${untilIso}`;
  if (existing.rows.length > 0) {
    const comment = String(existing.rows[0].c ?? '');
    if (fresh || !comment.startsWith(marker)) {
      if (!fresh) throw new Error(`schema ${name} exists and is not a snapshot as of ${untilIso} (${comment || 'no comment'}): use --fresh to replace it`);
      await pool.query(`DROP SCHEMA ${quoteIdent(name)} CASCADE`);
    } else if (comment.includes('; complete')) {
      process.stdout.write(`snapshot ${name} as of ${untilIso} already exists\n`);
      return 0;
    } else say(`resuming the interrupted snapshot ${name}`);
  }
  await migrate({ connectionString: ctx.config.postgres.connectionString, schema: name, analytics: false });
  await pool.query(`COMMENT ON SCHEMA ${quoteIdent(name)} IS '${marker}; building'`);
  const progress = new Progress(`snapshot ${name}`);
  await projectPass({
    kafka: ctx.kafka,
    topic,
    targets: { pg: { pool, schema: name, projection: PROJECTION } },
    untilMs,
    throttleMs: ctx.throttleMs,
    onPlan: (n) => progress.setTotal(progress.count + n),
    onApplied: (n) => progress.add(n),
  });
  progress.finish();
  const client = await pool.connect();
  try {
    const snap = await snapshotPostgres(client, { schema: name, topic });
    const report = await verifyStores({ kafka: ctx.kafka, topic, snapshots: [snap], until: untilIso });
    if (report.differences.length > 0) {
      process.stdout.write(`snapshot ${name} differs from the fold of the events:\n${formatDifferences(report.differences)}`);
      return 1;
    }
    const analytics = `analytics_${name}`;
    await publishAnalytics(client, { schema: name, analyticsSchema: analytics });
    await client.query(`COMMENT ON SCHEMA ${quoteIdent(name)} IS '${marker}; complete; ${report.members} members'`);
    process.stdout.write(`snapshot ${name}: state as of ${untilIso}, ${report.members} members, verified; analysts: schema ${analytics}\n`);
    return 0;
  } finally {
    client.release();
  }
}
