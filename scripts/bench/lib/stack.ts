// An isolated ledger stack for the bench, on the shared broker, Postgres and Redis: its own
// topic prefix, database and Redis key prefix (the demo's and the tests' data are never
// touched), the apps spawned from dist/, removed again at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { nodeFlagsFor } from '@loyalty/config';
import { ensureTopics, topicNames, topicSpecs, type TopicNames } from '@loyalty/kafka';
import { createDatabaseIfMissing, deletePrefix, dropDatabase, migrate, pipelineLag } from '@loyalty/read-models';
import { freePort, log, sleep } from './util';

export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const PG_BASE = process.env.BENCH_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** `--cpu-prof` in args: node flags writing a V8 CPU profile of the process to bench-results/profiles/. */
export function cpuProfileArgs(args: string[], name: string): string[] {
  if (!args.includes('--cpu-prof')) return [];
  const dir = path.join(process.env.BENCH_RESULTS_DIR ?? path.join(ROOT, 'bench-results'), 'profiles');
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`];
}

export type StageName = 'ingest' | 'ledger' | 'postgres' | 'redis';
export type Lags = Record<StageName, number> & { heads: Record<string, number> };

export interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
  /** The first chunks of output, kept whole (the ring above drops old ones). */
  head: string[];
}

export class BenchStack {
  readonly id: string;
  readonly prefix: string;
  readonly topics: TopicNames;
  readonly databaseUrl: string;
  readonly schema = 'loyalty';
  readonly redisPrefix: string;
  readonly redisUrl = REDIS_URL;
  readonly apiKey = randomBytes(16).toString('hex');
  port = 0;
  env: Record<string, string> = {};
  kafka!: Kafka;
  admin!: Admin;
  pool!: Pool;
  redis!: Redis;
  private readonly procs = new Set<Proc>();

  constructor(readonly label: string, readonly partitions: number) {
    this.id = `bench${Date.now().toString(36)}${randomBytes(2).toString('hex')}${label}`;
    this.prefix = `${this.id}.`;
    this.topics = topicNames(this.prefix);
    this.databaseUrl = `${PG_BASE}/loyalty_${this.id}`;
    this.redisPrefix = `${this.id}:`;
  }

  get apiUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Topic-level max.message.bytes for the bench's own topics (0 = the shipped settings).
   * The ingest and the ledger send the outputs of one input batch (up to 4 MiB fetched per
   * partition) as one record batch per output partition; co-partitioned by memberId, that
   * is ~2-3x the input in ONE partition, above the broker's 1 MiB default. See BENCHMARKS.md.
   */
  maxMessageBytes = 0;

  /** PIPELINE_NICE of the apps (the ledger and projector lower their CPU priority to it). */
  pipelineNice = 10;

  async up(extraTopics: string[] = []): Promise<void> {
    this.port = await freePort();
    this.env = {
      KAFKA_BROKERS: BROKERS,
      TOPIC_PREFIX: this.prefix,
      TOPIC_PARTITIONS: String(this.partitions),
      DATABASE_URL: this.databaseUrl,
      DATABASE_SCHEMA: this.schema,
      REDIS_URL,
      REDIS_KEY_PREFIX: this.redisPrefix,
      PORT: String(this.port),
      HOST: '127.0.0.1',
      LOYALTY_BOOTSTRAP_API_KEY: this.apiKey,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      // The bench measures capacity: no per-key rate limit on its own API key.
      RATE_LIMIT_PER_SECOND: '0',
      PIPELINE_NICE: String(this.pipelineNice),
    };
    this.kafka = new Kafka({ clientId: this.id, brokers: BROKERS.split(','), logLevel: logLevel.NOTHING });
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const specs = topicSpecs(this.prefix, this.partitions);
    for (const t of extraTopics) specs.push({ topic: `${this.prefix}${t}`, numPartitions: this.partitions, replicationFactor: 1 });
    if (this.maxMessageBytes > 0) {
      for (const s of specs) s.configEntries = [...(s.configEntries ?? []), { name: 'max.message.bytes', value: String(this.maxMessageBytes) }];
    }
    await ensureTopics(this.admin, specs);
    await createDatabaseIfMissing(this.databaseUrl);
    await migrate({ connectionString: this.databaseUrl, schema: this.schema, analytics: false, log: () => undefined });
    this.pool = new Pool({ connectionString: this.databaseUrl, max: 4 }).on('error', () => undefined);
    this.redis = new Redis(REDIS_URL);
  }

  /** Spawns dist/apps/<app>/main.js (or a bench stage runner) and waits for its ready line. */
  async start(app: 'api' | 'ledger' | 'projector' | 'stage', extraEnv: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Proc> {
    const script =
      app === 'stage' ? path.join(ROOT, 'dist', 'scripts', 'bench', 'stage-runner.js') : path.join(ROOT, 'dist', 'apps', app, 'main.js');
    // A stage runner runs the ingest or the ledger: the ledger app's flags.
    const child = spawn(process.execPath, [...nodeFlagsFor(app === 'stage' ? 'ledger' : app), ...nodeArgs, script], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      // The pipeline in sessions of its own, as scripts/demo.sh starts it: its nice then ranks
      // it below the API's session too (lowerSessionPriority). BENCH_SHARED_SESSION=1 keeps
      // it in the bench's session, for comparison.
      detached: app !== 'api' && process.env.BENCH_SHARED_SESSION !== '1',
    });
    const p: Proc = { name: app === 'stage' ? `stage:${extraEnv.BENCH_STAGE}` : app, child, output: [], head: [] };
    this.procs.add(p);
    const keep = (b: Buffer) => {
      if (p.head.length < 100) p.head.push(b.toString());
      p.output.push(b.toString());
      if (p.output.length > 400) p.output.shift();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => this.procs.delete(p));
    const ready = { api: /api listening/, ledger: /ledger running/, projector: /projector running/, stage: /stage running/ }[app];
    const deadline = Date.now() + 90_000;
    while (!ready.test(p.output.join(''))) {
      if (child.exitCode !== null) throw new Error(`${p.name} exited with ${child.exitCode}:\n${p.output.join('').slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`${p.name} did not start in time:\n${p.output.join('').slice(-4000)}`);
      await sleep(50);
    }
    return p;
  }

  async stop(p: Proc): Promise<void> {
    const c = p.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    await Promise.race([exited, sleep(25_000)]);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await exited;
    }
  }

  /** POSTs JSON to the stack's API with its key (and an Idempotency-Key when given); the answer's status. */
  async post(path: string, body: unknown, idempotencyKey?: string): Promise<number> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' };
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    const r = await fetch(`${this.apiUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    await r.text();
    return r.status;
  }

  /**
   * Gives each member points enough for thousands of redemptions (one large purchase each),
   * then redeems for `probe` until every one succeeds: the ledgers own their partitions and
   * have decided the purchases. Meanwhile commands time out (503) or find no points (422).
   */
  async fundMembers(members: string[], probe: string[] = members): Promise<void> {
    const at = new Date().toISOString();
    await Promise.all(members.map((memberId, i) => this.post('/v1/purchases', { purchaseId: `seed-${memberId}-${i}`, memberId, amount: 100_000_000, currency: 'USD', occurredAt: at })));
    for (let round = 0; ; round++) {
      const statuses = await Promise.all(probe.map((m) => this.post(`/v1/members/${m}/redemptions`, { rewardId: 'coffee' }, `warm-up-${round}-${m}`)));
      if (statuses.every((s) => s === 201)) return;
      if (round === 60) throw new Error(`no redemption succeeded while warming up (answers ${JSON.stringify(statuses)})`);
      await sleep(1000);
    }
  }

  /** Lag per stage (messages / offsets not yet applied), as `loyalty lag` computes it. */
  async lags(): Promise<Lags> {
    const s = await pipelineLag(this.admin, this.pool, this.redis, { topicPrefix: this.prefix, schema: this.schema, redisPrefix: this.redisPrefix });
    const out = { heads: {} } as Lags;
    for (const st of s) {
      out[st.stage as StageName] = st.lag;
      out.heads[st.stage] = st.partitions.reduce((n, p) => n + Number(p.head), 0);
    }
    return out;
  }

  /** Until every stage is caught up (lag <= 1 per partition: transaction markers, see timeStage). */
  async waitCaughtUp(timeoutS: number, pollMs = 200): Promise<void> {
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const l = await this.lags();
      if ([l.ingest, l.ledger, l.postgres, l.redis].every((x) => x <= this.partitions)) return;
      if (Date.now() > deadline) throw new Error(`pipeline did not catch up: ${JSON.stringify(l)}`);
      await sleep(pollMs);
    }
  }

  async topicHead(topic: string): Promise<number> {
    const o = await this.admin.fetchTopicOffsets(topic);
    return o.reduce((n, p) => n + Number(p.high), 0);
  }

  async teardown(): Promise<void> {
    await Promise.all([...this.procs].map((p) => this.stop(p)));
    try {
      await this.pool?.end();
    } catch {
      /* already closed */
    }
    if (this.redis) {
      await deletePrefix(this.redis, this.redisPrefix).catch(() => undefined);
      this.redis.disconnect();
    }
    if (this.admin) {
      try {
        const mine = (await this.admin.listTopics()).filter((t) => t.startsWith(this.prefix));
        if (mine.length) await this.admin.deleteTopics({ topics: mine }).catch(() => undefined);
        const groups = (await this.admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(this.prefix));
        if (groups.length) await this.admin.deleteGroups(groups).catch(() => undefined);
      } catch (err) {
        log(`cleanup of topics/groups of ${this.id} failed: ${(err as Error).message}`);
      }
      await this.admin.disconnect().catch(() => undefined);
    }
    await dropDatabase(this.databaseUrl).catch((err) => log(`drop database failed: ${(err as Error).message}`));
  }

  /** Processes still running (for the final check that nothing is left behind). */
  running(): Proc[] {
    return [...this.procs];
  }
}
