import { Client } from 'pg';
import Redis from 'ioredis';
import { pgPoolConfig, redisOptions } from '@loyalty/config';
import { createKafka, topicNames } from '@loyalty/kafka';
import { activeRedisPrefix } from '@loyalty/read-models';
import { option } from '@loyalty/config';
import type { OpsCommand } from './commands';
import { Progress } from './progress';
import { formatDifferences, snapshotPostgres, snapshotRedis, verifyStores, type StoreSnapshot } from './verify/verify';

export const verifyCommand: OpsCommand = {
  summary: 'recompute balances and tiers from the events, compare with Postgres and Redis  [--projection postgres|redis|all] [--json]',
  async run({ config, logger, args }) {
    const which = option(args, 'projection') ?? 'all';
    if (!['postgres', 'redis', 'all'].includes(which)) throw new Error('--projection must be postgres, redis or all');
    const topic = topicNames(config.topics.prefix).events;
    const kafka = createKafka(config.kafka, logger, 'ops-verify');
    const snapshots: StoreSnapshot[] = [];
    const pg = new Client(pgPoolConfig(config));
    const redis = new Redis(config.redis.url, { ...redisOptions(config), lazyConnect: false });
    try {
      if (which !== 'redis') {
        await pg.connect();
        snapshots.push(await snapshotPostgres(pg, { schema: config.postgres.schema, topic }));
      }
      if (which !== 'postgres') {
        const prefix = await activeRedisPrefix(redis, config.redis.keyPrefix);
        snapshots.push(await snapshotRedis(redis, { prefix }));
      }
    } finally {
      await pg.end().catch(() => undefined);
      redis.disconnect();
    }
    const progress = new Progress('verify: events folded');
    const report = await verifyStores({ kafka, topic, snapshots, onEvents: (n) => progress.add(n), onPlan: (n) => progress.setTotal(n) });
    progress.finish();
    if (args.includes('--json')) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    } else {
      for (const s of report.stores) {
        process.stdout.write(`${s.store.padEnd(8)} ${s.where}: ${s.ready ? `${s.members} members, offsets ${JSON.stringify(s.offsets)}` : 'NOT READY (never built or lost its data): not compared'}\n`);
      }
      process.stdout.write(`folded ${report.events} events of ${report.members} members\n`);
      if (report.differences.length === 0) process.stdout.write('no differences\n');
      else {
        process.stdout.write(`${report.differences.length} difference(s) ('=' : that store agrees)\n`);
        process.stdout.write(formatDifferences(report.differences));
      }
    }
    return report.differences.length > 0 || report.stores.some((s) => !s.ready) ? 1 : 0;
  },
};
