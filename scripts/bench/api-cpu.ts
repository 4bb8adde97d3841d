// The API's CPU per read request (issue #5), as A/B runs of one or more builds on one stack.
//
//   npm run build && nice -n 19 node dist/scripts/bench/api-cpu.js [options]
//     --builds DIR[,DIR…]  checkouts whose dist/apps/api/main.js are compared (default: this
//                          one). Each round starts each build's API in turn (the order
//                          reversed every other round: ABBA…), so the builds share the
//                          machine's minutes. `floor` is lib/api-floor.ts: the same reads
//                          on bare Fastify, without any of the API's request pipeline;
//                          `floor-nest` (lib/api-floor-nest.ts) the same as Nest controllers.
//                          DIR@FLAG@FLAG… starts that build's API with those node flags
//                          (e.g. /tmp/a@--max-semi-space-size=32), compared as a build of its own.
//     --parallel           each round runs the builds' APIs AT THE SAME TIME (one port and one
//                          load generator each, same rate): on a shared machine they then see the
//                          same contention, which sequential runs do not (their CPU per
//                          request moved by ±20 % between runs a minute apart)
//     --rounds N           rounds (default 3)
//     --idle-seconds N     before each run, the API's CPU with no requests is read for this long
//                          (default 5): ms of CPU per second, its background work
//     --rate N             offered requests/s of each run (default 1000)
//     --seconds N          length of each run (default 10; a 3 s warm-up at the same rate comes first)
//     --routes a,b         of balance, leaderboard, unknown (a balance of a non-member, 404) (default balance,leaderboard)
//     --purchases N        purchases seeded through the real ledger and projector (default 20000)
//     --ingest-rate N      purchases/s published while the runs go (default 0: the pipeline
//                          is stopped once the data is in, so only the API and Redis work)
//     --rate-limit N       RATE_LIMIT_PER_SECOND of the API (burst 2N): the limiter's path runs
//                          on every request as in production (default 0: off, as the bench has it)
//     --node-flags "F …"   extra node/V8 flags of every API started (e.g. --max-semi-space-size=32)
//     --cpu-prof           a V8 CPU profile of each measured run of the API, written to
//                          bench-results/api-cpu/<build>-<route>-<round>.cpuprofile (read
//                          them with dist/scripts/bench/cpuprofile-top.js)
//
// It brings up a BenchStack (own topics, database, Redis prefix; removed at the end), runs
// the ledger and projector of this checkout's dist until the seeded traffic is visible,
// then for each build: starts its API, drives the routes with the bench's open-loop load generator (in a process of
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
import { freePort, log, sleep } from './lib/util';
import { readRuntime, runtimeSummary } from './lib/runtime-metrics';

type Route = 'balance' | 'leaderboard' | 'unknown';

interface Run extends HttpResult {
  build: string;
  round: number;
  /** The CPU per request split into user and kernel (system) time, µs. */
  userUs: number;
  sysUs: number;
  idleCpuMsPerS: number;
}

/** utime and stime of a process, seconds (Linux /proc, 100 Hz ticks). */
function cpuOf(pid: number): { user: number; sys: number } {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: Number(parts[11]) / 100, sys: Number(parts[12]) / 100 };
}

async function startApi(stack: BenchStack, build: string, profileFile: string | undefined, nodeFlags: string[], port: number): Promise<Proc> {
  const [root, ...ownFlags] = build.split('@');
  const preload = path.join(ROOT, 'dist', 'scripts', 'bench', 'lib', 'cpu-profile-preload.js');
  const floors: Record<string, string> = { floor: 'api-floor.js', 'floor-nest': 'api-floor-nest.js' };
  const script = floors[root] ? path.join(ROOT, 'dist', 'scripts', 'bench', 'lib', floors[root]) : path.join(root, 'dist', 'apps', 'api', 'main.js');
  const child = spawn(process.execPath, [...nodeFlagsFor('api'), ...nodeFlags, ...ownFlags, ...(profileFile ? ['-r', preload] : []), script], {
    cwd: floors[root] ? ROOT : root,
    env: { ...process.env, ...stack.env, PORT: String(port), ...(profileFile ? { CPU_PROFILE_FILE: profileFile } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Proc = { name: `api:${root}`, child, output: [], head: [] };
  // Kept whole for a post-mortem (--node-flags --trace-gc): the last 2,000 chunks.
  child.stdout!.on('data', (b: Buffer) => p.output.push(b.toString()) > 2000 && p.output.shift());
  child.stderr!.on('data', (b: Buffer) => p.output.push(b.toString()));
  const deadline = Date.now() + 60_000;
  while (!/api listening/.test(p.output.join(''))) {
    if (child.exitCode !== null) throw new Error(`api of ${root} exited: ${p.output.join('').slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`api of ${root} did not start: ${p.output.join('').slice(-3000)}`);
    await sleep(50);
  }
  return p;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const isFloor = (b: string) => b === 'floor' || b === 'floor-nest';
  const builds = (option(args, 'builds') ?? ROOT).split(',').map((b) => (isFloor(b) ? b : path.resolve(b)));
  const labelOf = (b: string) => (isFloor(b) ? b : path.basename(b));
  const rounds = intOption(args, 'rounds', 3);
  const rate = intOption(args, 'rate', 1000);
  const seconds = intOption(args, 'seconds', 10);
  const routes = (option(args, 'routes') ?? 'balance,leaderboard').split(',') as Route[];
  const purchases = intOption(args, 'purchases', 20_000);
  const ingestRate = intOption(args, 'ingest-rate', 0);
  const prof = flag(args, 'cpu-prof');
  const rateLimit = intOption(args, 'rate-limit', 0);
  const parallel = flag(args, 'parallel');
  const idleSeconds = intOption(args, 'idle-seconds', 5);
  const nodeFlags = (option(args, 'node-flags') ?? '').split(' ').filter(Boolean);
  const outDir = path.join(ROOT, 'bench-results');
  const profDir = path.join(outDir, 'api-cpu');
  if (prof) fs.mkdirSync(profDir, { recursive: true });
  for (const b of builds) if (!isFloor(b) && !fs.existsSync(path.join(b.split('@')[0], 'dist', 'apps', 'api', 'main.js'))) throw new Error(`no build in ${b} (npm run build there)`);

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
    await stack.waitCaughtUp(600, 500);
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
      // The balance of people who are not members (404): a till asking whether a customer is enrolled.
      unknown: () => `/v1/members/not-a-member-${Math.floor(Math.random() * 1e9)}/balance`,
    };

    /** One measured run of each build in `group` at the same time (a group of one: alone). */
    const measure = async (group: string[], route: Route, round: number) => {
      const apis: { build: string; label: string; api: Proc; url: string; file?: string }[] = [];
      try {
        for (const build of group) {
          const label = labelOf(build);
          const file = prof ? path.join(profDir, `${label}-${route}-${round}.cpuprofile`) : undefined;
          const port = await freePort();
          apis.push({ build, label, file, url: `http://127.0.0.1:${port}`, api: await startApi(stack, build, file, nodeFlags, port) });
        }
        // Its CPU with no request at all (timers, the command-results consumer): ms per second.
        const idle0 = apis.map((a) => cpuOf(a.api.child.pid!));
        await sleep(idleSeconds * 1000);
        const idle = apis.map((a, i) => {
          const c = cpuOf(a.api.child.pid!);
          return Math.round(((c.user + c.sys - idle0[i].user - idle0[i].sys) * 1000) / idleSeconds);
        });
        await Promise.all(apis.map((a) => http(stack, `${route}-warmup`, { rate, seconds: 3, path: paths[route], url: a.url })));
        for (const a of apis) if (a.file) process.kill(a.api.child.pid!, 'SIGWINCH');
        const c0 = apis.map((a) => cpuOf(a.api.child.pid!));
        const rt0 = await Promise.all(apis.map((a) => readRuntime(a.url, 'loyalty_api_')));
        const [results] = await Promise.all([
          Promise.all(apis.map((a) => http(stack, route, { rate, seconds, path: paths[route], apiPid: a.api.child.pid!, url: a.url }))),
          ingest(seconds),
        ]);
        const c1 = apis.map((a) => cpuOf(a.api.child.pid!));
        const rt1 = await Promise.all(apis.map((a) => readRuntime(a.url, 'loyalty_api_')));
        for (const a of apis) if (a.file) process.kill(a.api.child.pid!, 'SIGWINCH');
        for (const a of apis) {
          const t = Date.now();
          while (a.file && !fs.existsSync(a.file) && Date.now() - t < 10_000) await sleep(100);
        }
        apis.forEach((a, i) => {
          const r = results[i];
          const per = (s: number) => Math.round((s * 1e6) / Math.max(1, r.requests));
          const run = { ...r, build: a.label, round, idleCpuMsPerS: idle[i], userUs: per(c1[i].user - c0[i].user), sysUs: per(c1[i].sys - c0[i].sys) };
          runs.push(run);
          log(`round ${round} ${a.label} ${route}: ${r.apiCpuUsPerRequest} µs CPU/request (user ${run.userUs}, sys ${run.sysUs}; idle ${run.idleCpuMsPerS} ms/s), p50 ${r.p50} / p99 ${r.p99} ms (from the write ${r.serviceP50} / ${r.serviceP99}), ${Math.round(r.achievedRps)}/s, non-2xx ${r.non2xx}, errors ${r.errors}; ${runtimeSummary(rt0[i], rt1[i])}`);
        });
      } finally {
        await Promise.all(apis.map((a) => stack.stop(a.api)));
        // What the API printed (e.g. with --node-flags --trace-gc), for a post-mortem.
        if (nodeFlags.length) {
          fs.mkdirSync(profDir, { recursive: true });
          for (const a of apis) fs.writeFileSync(path.join(profDir, `${a.label}-${route}-${round}.log`), a.api.output.join(''));
        }
      }
    };

    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? builds : [...builds].reverse();
      for (const route of routes) {
        if (parallel) await measure(order, route, round);
        else for (const build of order) await measure([build], route, round);
      }
    }
    await producer.disconnect();
  } finally {
    await stack.teardown();
  }

  const lines = ['| build | route | µs CPU/request (each round) | median | of which sys | p50 ms | p99 ms | achieved/s | non-2xx |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const b of builds.map(labelOf)) {
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
  fs.writeFileSync(file, JSON.stringify({ builds, rounds, rate, seconds, purchases, ingestRate, rateLimit, nodeFlags, parallel, runs }, null, 2));
  log(`results: ${path.relative(ROOT, file)}`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
