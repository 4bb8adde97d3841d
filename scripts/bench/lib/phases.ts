// The measured phases: one stage alone until its lag is 0, end-to-end, latency at a fixed
// offered rate, HTTP under ingest.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Producer } from 'kafkajs';
import type { BenchStack, Proc, StageName } from './stack';
import { publishAtRate } from './traffic';
import type { LoadResult } from './http-load';
import { cpuSecondsOf, log, now, rssOf, sleep, summary } from './util';

export interface StageTiming {
  stage: StageName;
  /** Lag left at transaction markers no batch moved past (0 = really 0). */
  residualLag: number;
  inputOffsets: number;
  /** From the process being ready to lag 0 (includes the group join and, for the ledger, the state restore). */
  wallMs: number;
  /** From the first visible progress to lag 0: the steady rate, in input offsets. */
  steadyMs: number;
  steadyOffsets: number;
  offsetsPerSec: number;
  cpuSeconds: number;
  peakRss: number;
}

/**
 * When a stage's lag settled: 0, or at most one per partition and unchanged for 3 s (a
 * partition whose head is a transaction marker the stage never moved past, see
 * BENCHMARKS.md), dated when the lag last moved.
 */
export class LagSettle {
  private lag = NaN;
  private changedAt = 0;
  constructor(private readonly partitions: number) {}

  /** Feeds one reading; the settle time and what was left at markers, or undefined. */
  observe(lag: number, t: number): { at: number; residual: number } | undefined {
    if (lag !== this.lag) [this.lag, this.changedAt] = [lag, t];
    if (lag === 0) return { at: this.changedAt, residual: 0 };
    if (lag <= this.partitions && t - this.changedAt > 3000) return { at: this.changedAt, residual: lag };
    return undefined;
  }
}

/** Waits until `stage` has lag 0, polling every `pollMs`; the input was published before the stage started. */
export async function timeStage(stack: BenchStack, stage: StageName, proc: Proc, readyAt: number, inputOffsets: number, timeoutS: number, pollMs = 100): Promise<StageTiming> {
  let firstAt = 0;
  let lagAtFirst = 0;
  let peakRss = 0;
  const deadline = Date.now() + timeoutS * 1000;
  let lastLog = Date.now();
  const settle = new LagSettle(stack.partitions);
  for (;;) {
    const lags = await stack.lags();
    const t = now();
    const settled = settle.observe(lags[stage], t);
    const lag = settled ? 0 : lags[stage];
    peakRss = Math.max(peakRss, rssOf(proc.child.pid!));
    if (!firstAt && lag < inputOffsets) {
      firstAt = t;
      lagAtFirst = lag;
    }
    if (settled) {
      const end = settled.at;
      const steadyMs = firstAt === end ? 0 : end - firstAt;
      return {
        stage,
        residualLag: settled.residual,
        inputOffsets,
        wallMs: end - readyAt,
        steadyMs,
        steadyOffsets: lagAtFirst,
        offsetsPerSec: steadyMs > 0 ? lagAtFirst / (steadyMs / 1000) : inputOffsets / ((end - readyAt) / 1000),
        cpuSeconds: cpuSecondsOf(proc.child.pid!),
        peakRss,
      };
    }
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited: ${proc.output.join('').slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`${stage} still has lag ${lag} after ${timeoutS} s`);
    if (Date.now() - lastLog > 5000) {
      log(`  ${stage}: lag ${lag}`);
      lastLog = Date.now();
    }
    await sleep(pollMs);
  }
}

export interface LatencyResult {
  offeredRate: number;
  seconds: number;
  sent: number;
  achievedRate: number;
  lateTicks: number;
  maxSendMs: number;
  samples: number;
  lost: number;
  redis: ReturnType<typeof summary>;
  postgres: ReturnType<typeof summary>;
  both: ReturnType<typeof summary>;
  backlogAfterMs: number;
  raw?: LatencySample[];
}

/**
 * Publish → visible balance at a fixed offered rate. One message in `sampleEvery` is the
 * first purchase of a brand-new member; its balance is visible when its key exists in
 * Redis (`bal:<id>`) and its row in Postgres (`member_balances`), polled every `pollMs`
 * for all outstanding samples at once. Both stores move their rows and offsets
 * atomically, so "exists" means the purchase's batch is applied.
 */
export async function measureLatency(
  stack: BenchStack,
  producer: Producer,
  o: { rate: number; seconds: number; sampleEvery: number; keys: string[]; values: Buffer[]; tag: string; pollMs?: number },
): Promise<LatencyResult> {
  const pending = new Map<string, { at: number; redis?: number; pg?: number }>();
  const done: { redis: number; pg: number }[] = [];
  const perfToWall = Date.now() - now();
  const raw: LatencySample[] = [];
  let publishing = true;
  const pollMs = o.pollMs ?? 5;
  const poller = (async () => {
    while (publishing || pending.size) {
      const ids = [...pending.keys()];
      if (ids.length) {
        const pipe = stack.redis.pipeline();
        for (const id of ids) pipe.exists(`${stack.redisPrefix}bal:${id}`);
        const needPg = ids.filter((id) => pending.get(id)!.pg === undefined);
        const [res, pg] = await Promise.all([
          pipe.exec(),
          needPg.length ? stack.pool.query<{ member_id: string }>(`SELECT member_id FROM ${stack.schema}.member_balances WHERE member_id = ANY($1)`, [needPg]) : Promise.resolve({ rows: [] as { member_id: string }[] }),
        ]);
        const t = now();
        ids.forEach((id, k) => {
          const s = pending.get(id)!;
          if (s.redis === undefined && res?.[k]?.[1] === 1) s.redis = t;
        });
        for (const r of pg.rows) pending.get(r.member_id)!.pg ??= t;
        for (const id of ids) {
          const s = pending.get(id)!;
          if (s.redis !== undefined && s.pg !== undefined) {
            done.push({ redis: s.redis - s.at, pg: s.pg - s.at });
            raw.push({ id, publishWall: s.at + perfToWall, redisWall: s.redis + perfToWall, pgWall: s.pg + perfToWall });
            pending.delete(id);
          } else if (!publishing && t - s.at > 60_000) pending.delete(id);
        }
      }
      await sleep(pollMs);
    }
  })();
  const occurredAt = new Date(Date.now() - 3600_000).toISOString();
  let samples = 0;
  const sampleIds = new Map<number, string>();
  const r = await publishAtRate(
    producer,
    stack.topics.purchases,
    (i) => {
      if (i % o.sampleEvery === 0) {
        const memberId = `lat-${o.tag}-${i}`;
        sampleIds.set(i, memberId);
        return { key: memberId, value: JSON.stringify({ purchaseId: `lat-${o.tag}-${i}`, memberId, amount: 2500, currency: 'USD', occurredAt, channel: 'app' }) };
      }
      const k = i % o.values.length;
      return { key: o.keys[k], value: o.values[k] };
    },
    o.rate,
    o.seconds,
    (i, at) => {
      const id = sampleIds.get(i);
      if (id) {
        pending.set(id, { at });
        sampleIds.delete(i);
        samples++;
      }
    },
  );
  const endAt = now();
  publishing = false;
  await poller;
  const backlogAfterMs = now() - endAt;
  return {
    offeredRate: o.rate,
    seconds: o.seconds,
    sent: r.sent,
    achievedRate: r.sent / (r.ms / 1000),
    lateTicks: r.lateTicks,
    maxSendMs: r.maxSendMs,
    samples,
    lost: samples - done.length,
    redis: summary(done.map((d) => d.redis)),
    postgres: summary(done.map((d) => d.pg)),
    both: summary(done.map((d) => Math.max(d.redis, d.pg))),
    backlogAfterMs,
    raw,
  };
}

export interface LatencySample {
  id: string;
  publishWall: number;
  redisWall: number;
  pgWall: number;
}

/**
 * Where the latency goes, hop by hop, from the Kafka timestamps (CreateTime, set by the
 * producing client) of the samples' first command on loyalty.commands and last event on
 * loyalty.events: publish → command (ingest), command → event (ledger), event → visible
 * (projector). Reads both topics once, checking only the keys.
 */
export async function hopBreakdown(stack: BenchStack, samples: LatencySample[], readToEnd: typeof import('@loyalty/kafka').readPartitionsToEnd) {
  const want = new Map(samples.map((x) => [x.id, x]));
  const cmdAt = new Map<string, number>();
  const evAt = new Map<string, number>();
  const parts = Array.from({ length: stack.partitions }, (_, i) => i);
  await readToEnd({ kafka: stack.kafka, topic: stack.topics.commands, partitions: parts, groupPrefix: `${stack.prefix}hops`, onBatch: (_p, msgs) => {
    for (const m of msgs) {
      const k = m.key?.toString();
      if (k && want.has(k) && !cmdAt.has(k)) cmdAt.set(k, Number(m.timestamp));
    }
  } });
  await readToEnd({ kafka: stack.kafka, topic: stack.topics.events, partitions: parts, groupPrefix: `${stack.prefix}hops`, onBatch: (_p, msgs) => {
    for (const m of msgs) {
      const k = m.key?.toString();
      if (k && want.has(k)) evAt.set(k, Math.max(evAt.get(k) ?? 0, Number(m.timestamp)));
    }
  } });
  const byTag = new Map<string, { ingest: number[]; ledger: number[]; redis: number[]; postgres: number[] }>();
  for (const x of samples) {
    const c = cmdAt.get(x.id);
    const e = evAt.get(x.id);
    if (c === undefined || e === undefined) continue;
    const tag = x.id.split('-')[1];
    let b = byTag.get(tag);
    if (!b) byTag.set(tag, (b = { ingest: [], ledger: [], redis: [], postgres: [] }));
    b.ingest.push(c - x.publishWall);
    b.ledger.push(e - c);
    b.redis.push(x.redisWall - e);
    b.postgres.push(x.pgWall - e);
  }
  const out: Record<string, Record<string, ReturnType<typeof summary>>> = {};
  for (const [tag, b] of byTag) out[tag] = { ingest: summary(b.ingest), ledger: summary(b.ledger), redisProjector: summary(b.redis), postgresProjector: summary(b.postgres) };
  return out;
}

export interface HttpResult {
  name: string;
  rate: number;
  seconds: number;
  requests: number;
  achievedRps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** From the request's write rather than its due time: leaves out the load generator's own delays. */
  serviceP50?: number;
  serviceP99?: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  available: boolean;
  /** CPU of the API process per answered request (user + system, from /proc), µs. */
  apiCpuUsPerRequest?: number;
  /** A bare Redis GET from a process of its own in the same seconds (lib/redis-probe.ts), ms. */
  redisProbe?: ReturnType<typeof summary>;
  note?: string;
}

/**
 * An open loop at a constant rate, in a child process (lib/http-load.ts, which says why not
 * autocannon) so that the bench's own publisher does not delay its reads. The paths, bodies
 * and headers are drawn here, one per request of the run, and replayed in order there.
 */
export async function http(
  stack: BenchStack,
  name: string,
  o: { rate: number; seconds: number; method?: 'GET' | 'POST'; path: () => string; body?: () => string; headers?: () => Record<string, string>; connections?: number; apiPid?: number; url?: string },
): Promise<HttpResult> {
  const n = Math.max(1, Math.round(o.rate * o.seconds));
  const requests = Array.from({ length: n }, () => ({ method: o.method ?? 'GET', path: o.path(), ...(o.body ? { body: o.body() } : {}), ...(o.headers ? { headers: o.headers() } : {}) }));
  const specFile = path.join(os.tmpdir(), `bench-http-${process.pid}-${name}-${Math.random().toString(36).slice(2, 8)}.json`);
  fs.writeFileSync(
    specFile,
    JSON.stringify({
      url: o.url ?? stack.apiUrl,
      connections: o.connections ?? 16,
      seconds: o.seconds,
      rate: o.rate,
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      requests,
    }),
  );
  const run = (script: string, args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [path.join(__dirname, script), ...args], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
  const lastLine = (out: string) => JSON.parse(out.trim().split('\n').pop()!);
  try {
    const cpu0 = o.apiPid ? cpuSecondsOf(o.apiPid) : NaN;
    // The floor under the run's tail: a bare Redis round trip in the same seconds.
    const probe = run('redis-probe.js', [stack.redisUrl, `${stack.redisPrefix}probe`, String(o.seconds)]).then(lastLine, (err: Error) => {
      log(`redis probe failed: ${err.message}`);
      return undefined;
    });
    const r = lastLine(await run('http-load.js', [specFile])) as LoadResult;
    const redisProbe = (await probe) as HttpResult['redisProbe'];
    return {
      name,
      rate: o.rate,
      seconds: o.seconds,
      requests: r.total,
      achievedRps: r.answeredRate,
      p50: r.p50,
      p90: r.p90,
      p99: r.p99,
      max: r.max,
      serviceP50: r.serviceP50,
      serviceP99: r.serviceP99,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      available: true,
      apiCpuUsPerRequest: o.apiPid && r.total > 0 ? Math.round(((cpuSecondsOf(o.apiPid) - cpu0) * 1e6) / r.total) : undefined,
      redisProbe,
    };
  } finally {
    fs.rmSync(specFile, { force: true });
  }
}
