import { Pool } from 'pg';
import Redis from 'ioredis';
import { pgPoolConfig, redisOptions, type AppConfig } from '@loyalty/config';
import { createKafka, pipelineSources, stageLags, topicNames, type StageLag } from '@loyalty/kafka';
import { readModelOffsets } from '@loyalty/read-models';
import type { CommandContext, OpsCommand } from './commands';

/** Every stage of the pipeline, from the inbound topic to both read models. */
export async function pipelineLag(config: AppConfig, ctx: Pick<CommandContext, 'logger'>): Promise<StageLag[]> {
  const admin = createKafka(config.kafka, ctx.logger, 'ops').admin();
  const pool = new Pool(pgPoolConfig(config, { max: 1 }));
  const redis = new Redis(config.redis.url, { ...redisOptions(config), lazyConnect: false });
  try {
    await admin.connect();
    const stores = await readModelOffsets(pool, redis, {
      schema: config.postgres.schema,
      redisPrefix: config.redis.keyPrefix,
      eventsTopic: topicNames(config.topics.prefix).events,
    });
    return await stageLags(admin, pipelineSources(config.topics.prefix, stores));
  } finally {
    await admin.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
    redis.disconnect();
  }
}

export const lagCommand: OpsCommand = {
  summary: 'per stage and partition: committed offset, head, lag  [--wait SECONDS] [--json]',
  async run(ctx) {
    const waitIdx = ctx.args.indexOf('--wait');
    const waitS = waitIdx >= 0 ? Number(ctx.args[waitIdx + 1] ?? 60) : 0;
    const deadline = Date.now() + waitS * 1000;
    for (;;) {
      const lags = await pipelineLag(ctx.config, ctx);
      const total = lags.reduce((n, s) => n + s.lag, 0);
      if (total === 0 || Date.now() >= deadline) {
        if (ctx.args.includes('--json')) process.stdout.write(JSON.stringify(lags, null, 2) + '\n');
        else printLags(lags);
        return total === 0 ? 0 : waitS > 0 ? 1 : 0;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  },
};

function printLags(lags: StageLag[]): void {
  for (const s of lags) {
    process.stdout.write(`${s.stage.padEnd(9)} ${s.topic.padEnd(28)} lag ${String(s.lag).padStart(8)}  ${s.status}\n`);
    for (const p of s.partitions.filter((p) => p.lag > 0)) {
      process.stdout.write(`          partition ${p.partition}: committed ${p.committed ?? '-'} head ${p.head} lag ${p.lag}\n`);
    }
  }
}
