// What a steady, moderate purchase rate costs each process: the whole stack (two ledger
// processes, the projector, an idle API) with purchases published at a fixed rate, and the
// CPU of every process and of the broker per purchase, with the batches (= transactions of
// the ingest and the ledger) each stage made per second. At the rates the HTTP runs use
// (2,000/s) the per-batch costs, not the per-message ones, decide what is left for reads.
//   npm run build && node dist/scripts/bench/steady-load.js [--rate 2000] [--seconds 20] [--env KEY=VALUE ...] [--cpu-prof]
// Run it against a broker of its own (KAFKA_BROKERS, BENCH_BROKER_MATCH) when others share the machine.
import { BenchStack, cpuProfileArgs, type Proc } from './lib/stack';
import { connectProducer, materialise, publishAtRate } from './lib/traffic';
import { brokerPids, cpuSecondsOf, cpuSecondsOfAll, freePort, log, postgresPids, redisServerPids, sleep } from './lib/util';
import { intOption } from '@loyalty/config';
import { runtimeOf, runtimeSummary, scrape } from './lib/runtime-metrics';

/** Batches (and their seconds) per stage, from a scrape of a pipeline app's /metrics. */
function batchCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const kind = line.startsWith('loyalty_batch_seconds_count{') ? '' : line.startsWith('loyalty_batch_seconds_sum{') ? ' seconds' : null;
    if (kind === null) continue;
    const stage = (/stage="([^"]+)"/.exec(line)?.[1] ?? '?') + kind;
    counts[stage] = (counts[stage] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rate = intOption(args, 'rate', 2000);
  const seconds = intOption(args, 'seconds', 20);
  const warmup = intOption(args, 'warmup', 8);
  const env: Record<string, string> = {};
  args.forEach((a, i) => {
    if (a === '--env') {
      const [k, ...v] = args[i + 1].split('=');
      env[k] = v.join('=');
    }
  });
  const stack = new BenchStack('s', 12);
  try {
    await stack.up();
    const ports: number[] = [];
    const procs: Array<{ label: string; p: Proc; metricsPort?: number }> = [];
    for (const [label, app, extra] of [
      ['ledger-1', 'ledger', {}],
      ['ledger-2', 'ledger', {}],
      ['projector', 'projector', {}],
      ['api', 'api', {}],
    ] as const) {
      const metricsPort = app === 'api' ? undefined : await freePort();
      if (metricsPort) ports.push(metricsPort);
      const prof = cpuProfileArgs(args, `steady-${label}`);
      const p = await stack.start(app, { ...extra, ...env, ...(metricsPort ? { METRICS_PORT: String(metricsPort) } : {}) }, prof);
      procs.push({ label, p, metricsPort });
    }
    const producer = await connectProducer(stack.kafka);
    const traffic = materialise({ seed: 7, purchases: rate * (seconds + warmup) + 1, members: 200_000 });
    const next = (i: number) => ({ key: traffic.keys[i], value: traffic.values[i] });
    log(`publishing ${rate}/s: ${warmup} s warm-up, then ${seconds} s measured (env ${JSON.stringify(env)})`);
    await publishAtRate(producer, stack.topics.purchases, next, rate, warmup);
    const brokers = brokerPids();
    const cpu0 = procs.map((x) => cpuSecondsOf(x.p.child.pid!));
    const broker0 = cpuSecondsOfAll(brokers);
    // The database servers are shared with whatever else runs on the machine: run it alone.
    const pg0 = new Map(postgresPids().map((pid) => [pid, cpuSecondsOf(pid)]));
    const redisPids = redisServerPids();
    const redis0 = cpuSecondsOfAll(redisPids);
    const withMetrics = procs.filter((x) => x.metricsPort);
    const scrapeAll = () => Promise.all(withMetrics.map((x) => scrape(`http://127.0.0.1:${x.metricsPort}`)));
    const metrics0 = await scrapeAll();
    const t0 = performance.now();
    const sent = await publishAtRate(producer, stack.topics.purchases, (i) => next(i + rate * warmup), rate, seconds);
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = procs.map((x) => cpuSecondsOf(x.p.child.pid!));
    const broker1 = cpuSecondsOfAll(brokers);
    // A backend that started meanwhile counts whole; one that ended is lost (the pools keep theirs).
    const pgCpu = postgresPids().reduce((n, pid) => n + cpuSecondsOf(pid) - (pg0.get(pid) ?? 0), 0);
    const redisCpu = cpuSecondsOfAll(redisPids) - redis0;
    const metrics1 = await scrapeAll();
    const perPurchase = (s: number) => `${Math.round((s * 1e6) / sent.sent)} µs/purchase (${((s / wall) * 100).toFixed(0)} % of a core)`;
    console.log(`rate ${rate}/s offered, ${Math.round(sent.sent / wall)}/s sent, ${wall.toFixed(1)} s measured, env ${JSON.stringify(env)}`);
    procs.forEach((x, i) => console.log(`  ${x.label.padEnd(10)} ${perPurchase(cpu1[i] - cpu0[i])}`));
    console.log(`  ${'broker'.padEnd(10)} ${perPurchase(broker1 - broker0)}`);
    console.log(`  ${'postgres'.padEnd(10)} ${perPurchase(pgCpu)}`);
    console.log(`  ${'redis'.padEnd(10)} ${perPurchase(redisCpu)}`);
    const total = procs.reduce((s, _x, i) => s + cpu1[i] - cpu0[i], 0) + broker1 - broker0 + pgCpu + redisCpu;
    console.log(`  ${'all'.padEnd(10)} ${perPurchase(total)}`);
    const stages: Record<string, number> = {};
    metrics1.forEach((text, i) => {
      const before = batchCounts(metrics0[i]);
      Object.entries(batchCounts(text)).forEach(([stage, n]) => (stages[stage] = (stages[stage] ?? 0) + n - (before[stage] ?? 0)));
    });
    const names = Object.keys(stages).filter((s) => !s.endsWith(' seconds'));
    console.log(`  batches per second: ${names.map((s) => `${s} ${Math.round(stages[s] / wall)}`).join(', ')}`);
    // A batch's time: from its fetch being handed over to its transaction committed.
    console.log(`  mean batch time, ms: ${names.map((s) => `${s} ${stages[s] ? Math.round((stages[`${s} seconds`] * 1000) / stages[s]) : '-'}`).join(', ')}`);
    withMetrics.forEach((x, i) => console.log(`  ${x.label.padEnd(10)} ${runtimeSummary(runtimeOf(metrics0[i], ''), runtimeOf(metrics1[i], ''))}`));
    await producer.disconnect();
    await sleep(100);
  } finally {
    await stack.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
