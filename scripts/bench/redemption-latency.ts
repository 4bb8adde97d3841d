// Redemption latency on a stack of its own: by default the ledger and the API only, which
// separates the path's own latency from the contention of the full bench; with
// --ingest-rate N, as in the bench's HTTP phase: two ledger processes, the projector and
// purchases published at N/s underneath.
//   npm run build && node dist/scripts/bench/redemption-latency.js [--rate 200] [--seconds 10] [--ingest-rate 2000] [--pipeline-nice 10] [--cpu-prof]
// --cpu-prof writes V8 CPU profiles of the API and the ledger(s) to bench-results/profiles/.
// Prints sequential and open-loop latencies, and the ledger hop from Kafka timestamps.
import { createHash } from 'node:crypto';
import { readPartitionsToEnd } from '@loyalty/kafka';
import { BenchStack, cpuProfileArgs } from './lib/stack';
import { connectProducer, materialise, publishAtRate } from './lib/traffic';
import { intOption } from '@loyalty/config';

const PARTITIONS = 12;

function percentiles(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(1);
  return `p50 ${at(0.5)} p90 ${at(0.9)} p99 ${at(0.99)} ms (n ${s.length})`;
}

/** Approximate quantiles of a Prometheus histogram: the upper bound of the bucket that holds each. */
function histogramSummary(text: string, name: string, label: string): string {
  const buckets = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}_bucket{`) && l.includes(label))
    .map((l) => ({ le: /le="([^"]+)"/.exec(l)![1], n: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
  const total = buckets.find((b) => b.le === '+Inf')?.n ?? 0;
  if (!total) return 'no samples';
  const at = (q: number) => buckets.find((b) => b.n >= q * total)!.le;
  return `p50 <= ${at(0.5)} s, p90 <= ${at(0.9)} s, p99 <= ${at(0.99)} s (n ${total})`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rate = intOption(args, 'rate', 200);
  const seconds = intOption(args, 'seconds', 10);
  const ingestRate = intOption(args, 'ingest-rate', 0);
  const stack = new BenchStack('r', PARTITIONS);
  stack.pipelineNice = intOption(args, 'pipeline-nice', stack.pipelineNice);
  let publishing = true;
  let ingest: Promise<unknown> = Promise.resolve();
  try {
    const profArgs = (name: string) => cpuProfileArgs(args, `redemption-${name}`);
    await stack.up();
    const ledger = await stack.start('ledger', {}, profArgs('ledger'));
    const api = await stack.start('api', {}, profArgs('api'));
    if (ingestRate > 0) {
      await stack.start('ledger', {}, profArgs('ledger2'));
      await stack.start('projector');
      const producer = await connectProducer(stack.kafka);
      const traffic = materialise({ seed: 11, purchases: ingestRate * 10, members: 100_000 });
      let base = 0;
      ingest = (async () => {
        while (publishing) {
          await publishAtRate(producer, stack.topics.purchases, (i) => ({ key: traffic.keys[(base + i) % traffic.keys.length], value: traffic.values[(base + i) % traffic.values.length] }), ingestRate, 1);
          base += ingestRate;
        }
        await producer.disconnect();
      })();
      console.log(`purchases published at ${ingestRate}/s underneath (two ledger processes and the projector running)`);
    }
    // What the apps warned about during the run (a slow send, a replaced producer, a rebalance).
    process.on('exit', () => {
      for (const p of [ledger, api]) {
        const lines = p.output.join('').split('\n').filter((l) => /WARN|ERROR/.test(l));
        if (lines.length) console.log(`${p.name} warnings (${lines.length}):\n  ${lines.slice(-15).join('\n  ')}`);
      }
    });
    const post = (path: string, body: unknown, key?: string) => stack.post(path, body, key);
    // 200 members with enough points for every redemption below; not measured: until the
    // last of them can redeem (a ledger joining the group moves partitions and restores states).
    const members = Array.from({ length: 200 }, (_, i) => `latency-${i}`);
    await stack.fundMembers(members, [members[members.length - 1]]);

    const sequential: number[] = [];
    const refused = new Map<number, number>();
    for (let i = 0; i < 150; i++) {
      const t = performance.now();
      const status = await post(`/v1/members/${members[0]}/redemptions`, { rewardId: 'coffee' }, `seq-${i}`);
      sequential.push(performance.now() - t);
      // 503: no outcome within COMMAND_TIMEOUT_MS (the command is not lost: GET /v1/commands/{id}).
      if (status !== 201) refused.set(status, (refused.get(status) ?? 0) + 1);
    }
    console.log(`one at a time: ${percentiles(sequential)}${refused.size ? `; answers other than 201: ${JSON.stringify(Object.fromEntries(refused))}` : ''}`);

    const open: number[] = [];
    // Wall-clock start and end of each open-loop request, by command id (the API derives it
    // from the route, the key and the body), to split the latency around the ledger's hop.
    const wall = new Map<string, { start: number; end: number }>();
    const digest = createHash('sha256').update(JSON.stringify({ rewardId: 'coffee' })).digest('base64url').slice(0, 16);
    const pending: Promise<unknown>[] = [];
    const n = rate * seconds;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = performance.now();
      const memberId = members[i % members.length];
      const start = Date.now();
      pending.push(
        post(`/v1/members/${memberId}/redemptions`, { rewardId: 'coffee' }, `open-${i}`).then(() => {
          open.push(performance.now() - t);
          wall.set(`redeem:${memberId}:open-${i}:${digest}`, { start, end: Date.now() });
        }),
      );
    }
    await Promise.all(pending);
    publishing = false;
    await ingest;
    console.log(`open loop at ${rate}/s offered (${Math.round(n / ((performance.now() - t0) / 1000))}/s achieved): ${percentiles(open)}`);

    // The ledger's hop: a command's CreateTime (the API's send) to its outcome's (inside the ledger's transaction).
    const sent = new Map<string, number>();
    const decided = new Map<string, number>();
    const all = [...Array(PARTITIONS).keys()];
    await readPartitionsToEnd({ kafka: stack.kafka, topic: stack.topics.commands, partitions: all, onBatch: (_p, ms) => ms.forEach((m) => sent.set(JSON.parse(m.value!.toString()).commandId, Number(m.timestamp))) });
    await readPartitionsToEnd({ kafka: stack.kafka, topic: stack.topics.commandResults, partitions: all, onBatch: (_p, ms) => ms.forEach((m) => decided.set(JSON.parse(m.value!.toString()).commandId, Number(m.timestamp))) });
    const hops = [...sent].filter(([id]) => decided.has(id)).map(([id, t]) => decided.get(id)! - t);
    console.log(`ledger hop (command sent -> outcome written): ${percentiles(hops)}`);
    const timed = [...wall].filter(([id]) => sent.has(id) && decided.has(id));
    console.log(`open loop, request -> command sent (API in): ${percentiles(timed.map(([id, w]) => sent.get(id)! - w.start))}`);
    console.log(`open loop, command sent -> outcome written (ledger): ${percentiles(timed.map(([id]) => decided.get(id)! - sent.get(id)!))}`);
    console.log(`open loop, outcome written -> response (API out): ${percentiles(timed.map(([id, w]) => w.end - decided.get(id)!))}`);
    // The API's own view: its send and outcome waits, and how late its event loop ran.
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    for (const stage of ['send', 'outcome']) console.log(`API ${stage}: ${histogramSummary(metrics, 'loyalty_api_command_stage_duration_seconds', `stage="${stage}"`)}`);
    console.log(`API event loop lag: ${metrics.split('\n').filter((l) => /^loyalty_api_nodejs_eventloop_lag_(p50|p99|max)_seconds /.test(l)).map((l) => l.replace('loyalty_api_nodejs_eventloop_lag_', '')).join(', ')}`);
  } finally {
    publishing = false;
    await ingest.catch(() => undefined);
    await stack.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
