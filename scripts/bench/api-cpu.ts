// The API's CPU per read request (issue #5), as A/B runs of one or more builds on one stack.
//
//   npm run build && nice -n 19 node dist/scripts/bench/api-cpu.js [options]
//     --builds DIR[,DIR…]  checkouts whose dist/apps/api/main.js are compared (default: this
//                          one). Each round starts each build's API in turn (the order
//                          reversed every other round: ABBA…), so the builds share the
//                          machine's minutes.
//     --rounds N           rounds (default 3)
//     --rate N             offered requests/s of each run (default 1000)
//     --seconds N          length of each run (default 10; a 3 s warm-up at the same rate comes first)
//     --routes a,b         of balance, leaderboard (default both)
//     --purchases N        purchases seeded through the real ledger and projector (default 20000)
//     --ingest-rate N      purchases/s published while the runs go (default 0: the pipeline
//                          is stopped once the data is in, so only the API and Redis work)
//     --rate-limit N       RATE_LIMIT_PER_SECOND of the API (burst 2N): the limiter's path runs
//                          on every request as in production (default 0: off, as the bench has it)
//     --cpu-prof           a V8 CPU profile of each measured run of the API, written to
//                          bench-results/api-cpu/<build>-<route>-<round>.cpuprofile (read
//                          them with dist/scripts/bench/cpuprofile-top.js)
//
// It brings up a BenchStack (own topics, database, Redis prefix; removed at the end), runs
// the ledger and projector of this checkout's dist until the seeded traffic is visible,
// then for each build: starts its API, drives the routes with autocannon (in a process of
// its own, lib/http-load.ts) at a fixed rate, and reads the API process's CPU (utime +
// stime from /proc/<pid>/stat) before and after: µs of CPU per answered request, with
// p50/p99 latency. Run it under `nice -n 19` on a shared machine: everything it starts
// inherits that priority. Results: printed, and bench-results/api-cpu-<time>.json.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { flag, intOption, nodeFlagsFor, option } from '@loyalty/config';
import { http, type HttpResult } from './lib/phases';
import { BenchStack, ROOT, type Proc } from './lib/stack';
import { connectProducer, materialise, publishAll, publishAtRate } from './lib/traffic';
import { log, sleep } from './lib/util';

type Route = 'balance' | 'leaderboard';

interface Run extends HttpResult {
  build: string;
  round: number;
  /** The CPU per request split into user and kernel (system) time, µs. */
  userUs: number;
  sysUs: number;
}

/** utime and stime of a process, seconds (Linux /proc, 100 Hz ticks). */
function cpuOf(pid: number): { user: number; sys: number } {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: Number(parts[11]) / 100, sys: Number(parts[12]) / 100 };
}

async function startApi(stack: BenchStack, root: string, profileFile?: string): Promise<Proc> {
  const preload = path.join(ROOT, 'dist', 'scripts', 'bench', 'lib', 'cpu-profile-preload.js');
  const child = spawn(process.execPath, [...nodeFlagsFor('api'), ...(profileFile ? ['-r', preload] : []), path.join(root, 'dist', 'apps', 'api', 'main.js')], {
    cwd: root,
    env: { ...process.env, ...stack.env, ...(profileFile ? { CPU_PROFILE_FILE: profileFile } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Proc = { name: `api:${root}`, child, output: [], head: [] };
  child.stdout!.on('data', (b: Buffer) => p.output.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => p.output.push(b.toString()));
  const deadline = Date.now() + 60_000;
  while (!/api listening/.test(p.output.join(''))) {
    if (child.exitCode !== null) throw new Error(`api of ${root} exited: ${p.output.join('').slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`api of ${root} did not start: ${p.output.join('').slice(-3000)}`);
    await sleep(50);
  }
  return p;
}

async function waitVisible(stack: BenchStack, timeoutS: number): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const l = await stack.lags();
    if ([l.ingest, l.ledger, l.postgres, l.redis].every((x) => x <= stack.partitions)) return;
    if (Date.now() > deadline) throw new Error(`pipeline did not catch up: ${JSON.stringify(l)}`);
    await sleep(500);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const builds = (option(args, 'builds') ?? ROOT).split(',').map((b) => path.resolve(b));
  const rounds = intOption(args, 'rounds', 3);
  const rate = intOption(args, 'rate', 1000);
  const seconds = intOption(args, 'seconds', 10);
  const routes = (option(args, 'routes') ?? 'balance,leaderboard').split(',') as Route[];
  const purchases = intOption(args, 'purchases', 20_000);
  const ingestRate = intOption(args, 'ingest-rate', 0);
  const prof = flag(args, 'cpu-prof');
  const rateLimit = intOption(args, 'rate-limit', 0);
  const outDir = path.join(ROOT, 'bench-results');
  const profDir = path.join(outDir, 'api-cpu');
  if (prof) fs.mkdirSync(profDir, { recursive: true });
  for (const b of builds) if (!fs.existsSync(path.join(b, 'dist', 'apps', 'api', 'main.js'))) throw new Error(`no build in ${b} (npm run build there)`);

  const stack = new BenchStack('apicpu', 12);
  const stop = () => void stack.teardown().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const runs: Run[] = [];
  try {
    await stack.up();
    if (rateLimit > 0) Object.assign(stack.env, { RATE_LIMIT_PER_SECOND: String(rateLimit), RATE_LIMIT_BURST: String(2 * rateLimit) });
    const traffic = materialise({ seed: 42, purchases, members: purchases });
    const members = [...new Set(traffic.keys)];
    log(`seeding ${purchases} purchases (${members.length} member keys) through the ledger and projector`);
    const ledger = await stack.start('ledger');
    const projector = await stack.start('projector');
    const producer = await connectProducer(stack.kafka);
    await publishAll(producer, stack.topics.purchases, traffic);
    await waitVisible(stack, 600);
    // Keys of the generator that the ingest refused (malformed) are not members: only ask for those the read model has.
    const known = (await stack.pool.query<{ member_id: string }>(`SELECT member_id FROM ${stack.schema}.member_balances`)).rows.map((r) => r.member_id);
    log(`${known.length} members visible`);
    if (ingestRate === 0) {
      await stack.stop(ledger);
      await stack.stop(projector);
    }
    const more = materialise({ seed: 43, purchases: Math.max(1000, ingestRate * seconds * 2), members: purchases });
    let sent = 0;
    const ingest = async (s: number) => {
      if (ingestRate === 0) return;
      await publishAtRate(producer, stack.topics.purchases, (i) => {
        const k = (sent + i) % more.values.length;
        return { key: more.keys[k], value: more.values[k] };
      }, ingestRate, s);
      sent += ingestRate * s;
    };
    const paths: Record<Route, () => string> = {
      balance: () => `/v1/members/${known[Math.floor(Math.random() * known.length)]}/balance`,
      leaderboard: () => '/v1/leaderboards/points?limit=10',
    };

    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? builds : [...builds].reverse();
      for (const build of order) {
        const label = path.basename(build);
        for (const route of routes) {
          const file = prof ? path.join(profDir, `${label}-${route}-${round}.cpuprofile`) : undefined;
          const api = await startApi(stack, build, file);
          try {
            const pid = api.child.pid!;
            await http(stack, `${route}-warmup`, { rate, seconds: 3, path: paths[route] });
            if (file) process.kill(pid, 'SIGWINCH');
            const c0 = cpuOf(pid);
            const [r] = await Promise.all([http(stack, route, { rate, seconds, path: paths[route], apiPid: pid }), ingest(seconds)]);
            const c1 = cpuOf(pid);
            const per = (s: number) => Math.round((s * 1e6) / Math.max(1, r.requests));
            if (file) {
              process.kill(pid, 'SIGWINCH');
              const t = Date.now();
              while (!fs.existsSync(file) && Date.now() - t < 10_000) await sleep(100);
            }
            const run = { ...r, build: label, round, userUs: per(c1.user - c0.user), sysUs: per(c1.sys - c0.sys) };
            runs.push(run);
            log(`round ${round} ${label} ${route}: ${r.apiCpuUsPerRequest} µs CPU/request (user ${run.userUs}, sys ${run.sysUs}), p50 ${r.p50} / p99 ${r.p99} ms, ${Math.round(r.achievedRps)}/s, non-2xx ${r.non2xx}, errors ${r.errors}`);
          } finally {
            await stack.stop(api);
          }
        }
      }
    }
    await producer.disconnect();
  } finally {
    await stack.teardown();
  }

  const lines = ['| build | route | µs CPU/request (each round) | median | of which sys | p50 ms | p99 ms | achieved/s | non-2xx |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const b of builds.map((x) => path.basename(x))) {
    for (const route of routes) {
      const rs = runs.filter((r) => r.build === b && r.name === route);
      lines.push(
        `| ${b} | ${route} | ${rs.map((r) => r.apiCpuUsPerRequest).join(', ')} | ${median(rs.map((r) => r.apiCpuUsPerRequest!))} | ${rs.map((r) => r.sysUs).join(', ')} | ${rs.map((r) => r.p50).join(', ')} | ${rs.map((r) => r.p99).join(', ')} | ${rs.map((r) => Math.round(r.achievedRps)).join(', ')} | ${rs.reduce((n, r) => n + r.non2xx + r.errors, 0)} |`,
      );
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `api-cpu-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ builds, rounds, rate, seconds, purchases, ingestRate, rateLimit, runs }, null, 2));
  log(`results: ${path.relative(ROOT, file)}`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
