import { Pool } from 'pg';
import Redis from 'ioredis';
import { pgPoolConfig, survivePoolErrors, redisOptions } from '@loyalty/config';
import { createKafka, type StageLag } from '@loyalty/kafka';
import { pipelineLag } from '@loyalty/read-models';
import type { OpsCommand } from './commands';

export const lagCommand: OpsCommand = {
  summary: 'per stage and partition: committed offset, head, lag  [--wait SECONDS] [--json | --summary]',
  async run({ config, logger, args }) {
    const waitIdx = args.indexOf('--wait');
    const waitS = waitIdx >= 0 ? Number(args[waitIdx + 1] ?? 60) : 0;
    const deadline = Date.now() + waitS * 1000;
    // One set of connections for every poll of --wait.
    const admin = createKafka(config.kafka, logger, 'ops').admin();
    const pool = survivePoolErrors(new Pool(pgPoolConfig(config, { max: 1 })));
    const redis = new Redis(config.redis.url, { ...redisOptions(config), lazyConnect: false });
    try {
      await admin.connect();
      for (;;) {
        const lags = await pipelineLag(admin, pool, redis, { topicPrefix: config.topics.prefix, schema: config.postgres.schema, redisPrefix: config.redis.keyPrefix });
        const total = lags.reduce((n, s) => n + s.lag, 0);
        if (total === 0 || Date.now() >= deadline) {
          if (args.includes('--json')) process.stdout.write(JSON.stringify(lags, null, 2) + '\n');
          else printLags(lags, args.includes('--summary'));
          return total === 0 ? 0 : waitS > 0 ? 1 : 0;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
      redis.disconnect();
    }
  },
};

/** A line per stage, then its partitions (with --summary, only those that lag). */
function printLags(lags: StageLag[], summary: boolean): void {
  for (const s of lags) {
    process.stdout.write(`${s.stage.padEnd(9)} ${s.topic.padEnd(28)} lag ${String(s.lag).padStart(8)}  ${s.status}\n`);
    for (const p of summary ? s.partitions.filter((p) => p.lag > 0) : s.partitions) {
      process.stdout.write(`          partition ${p.partition}: committed ${p.committed ?? '-'} head ${p.head} lag ${p.lag}\n`);
    }
  }
}
