// A whole ledger stack for one test file, on the real broker, Postgres and Redis, isolated
// by its own topic prefix, database and Redis key prefix (the servers are shared).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { nodeFlagsFor } from '@loyalty/config';
import { ensureTopics, topicNames, topicSpecs, type TopicNames } from '@loyalty/kafka';
import { createDatabaseIfMissing, dropDatabase, migrate } from '@loyalty/read-models';
export { eventually } from './eventually';
import { freePort } from '../../scripts/bench/lib/util';

const ROOT = path.resolve(__dirname, '..', '..');
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const PG_BASE = process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export type AppName = 'api' | 'ledger' | 'projector';

export interface Stack {
  id: string;
  env: Record<string, string>;
  topics: TopicNames;
  /** Of every topic. */
  partitions: number;
  kafka: Kafka;
  pool: Pool;
  redis: Redis;
  apiUrl: string;
  apiKey: string;
  schema: string;
  redisPrefix: string;
  start(app: AppName, extraEnv?: Record<string, string>): Promise<ChildProcess>;
  stop(child: ChildProcess, signal?: NodeJS.Signals): Promise<void>;
  teardown(): Promise<void>;
}

export { freePort };

export async function createStack(opts: { partitions?: number; brokers?: string } = {}): Promise<Stack> {
  const brokers = opts.brokers ?? BROKERS;
  const id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const prefix = `${id}.`;
  const database = `loyalty_${id}`;
  const databaseUrl = `${PG_BASE}/${database}`;
  const schema = 'loyalty';
  const redisPrefix = `${id}:`;
  const port = await freePort();
  const apiKey = randomBytes(16).toString('hex');
  const partitions = opts.partitions ?? 3;
  const env: Record<string, string> = {
    KAFKA_BROKERS: brokers,
    TOPIC_PREFIX: prefix,
    TOPIC_PARTITIONS: String(partitions),
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOYALTY_BOOTSTRAP_API_KEY: apiKey,
    LOG_LEVEL: process.env.TEST_APP_LOG_LEVEL ?? 'info',
    LOG_FORMAT: 'json',
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };

  const kafka = new Kafka({ clientId: id, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(prefix, partitions));
  await admin.disconnect();
  await createDatabaseIfMissing(databaseUrl);
  await migrate({ connectionString: databaseUrl, schema, analytics: false });
  const pool = new Pool({ connectionString: databaseUrl, max: 4 }).on('error', () => undefined);
  const redis = new Redis(REDIS_URL);
  const children = new Set<ChildProcess>();

  const start = async (app: AppName, extraEnv: Record<string, string> = {}): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [...nodeFlagsFor(app), path.join(ROOT, 'dist', 'apps', app, 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const output: string[] = [];
    // Every app's log is kept under .run/logs for post-mortems.
    fs.mkdirSync(path.join(ROOT, '.run', 'logs'), { recursive: true });
    const logFile = fs.createWriteStream(path.join(ROOT, '.run', 'logs', `${id}-${app}-${child.pid}.log`));
    const keep = (b: Buffer) => {
      logFile.write(b);
      output.push(b.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => {
      children.delete(child);
      logFile.end();
    });
    const ready = app === 'api' ? /api listening/ : app === 'ledger' ? /ledger running/ : /projector running/;
    const deadline = Date.now() + 60000;
    while (!ready.test(output.join(''))) {
      if (child.exitCode !== null) throw new Error(`${app} exited with ${child.exitCode}:\n${output.join('')}`);
      if (Date.now() > deadline) throw new Error(`${app} did not start in time:\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return child;
  };

  const stop = async (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 25000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };

  const teardown = async () => {
    await Promise.all([...children].map((c) => stop(c)));
    await pool.end().catch(() => undefined);
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect();
    const mine = (await cleanup.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length) await cleanup.deleteTopics({ topics: mine }).catch(() => undefined);
    const groups = (await cleanup.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (groups.length) await cleanup.deleteGroups(groups).catch(() => undefined);
    await cleanup.disconnect();
    await dropDatabase(databaseUrl).catch(() => undefined);
  };

  return {
    id,
    env,
    topics: topicNames(prefix),
    partitions,
    kafka,
    pool,
    redis,
    apiUrl: `http://127.0.0.1:${port}`,
    apiKey,
    schema,
    redisPrefix,
    start,
    stop,
    teardown,
  };
}
