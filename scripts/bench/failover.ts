// What a crashed ledger costs its members: two ledger processes and the API on a stack of
// their own; members across every partition redeem a reward every 250 ms each; one ledger is
// killed with SIGKILL. Prints how long after the kill redemptions kept failing or waiting.
//   npm run build && node dist/scripts/bench/failover.js [--members 24] [--seconds 30]
import { intOption } from '@loyalty/config';
import { BenchStack } from './lib/stack';
import { sleep } from './lib/util';

interface Sample {
  start: number;
  ms: number;
  status: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const memberCount = intOption(args, 'members', 24);
  const seconds = intOption(args, 'seconds', 30);
  const stack = new BenchStack('f', 12);
  try {
    await stack.up();
    const victim = await stack.start('ledger');
    await stack.start('ledger');
    await stack.start('api');
    const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown, key: string): Promise<number> => {
      const r = await fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { ...headers, 'idempotency-key': key }, body: JSON.stringify(body) });
      await r.text();
      return r.status;
    };
    // Enough members that every partition holds some (keys hash over 12 partitions).
    const members = Array.from({ length: memberCount }, (_, i) => `failover-${i}`);
    const at = new Date().toISOString();
    await Promise.all(members.map((memberId, i) => post('/v1/purchases', { purchaseId: `seed-${i}`, memberId, amount: 100_000_000, currency: 'USD', occurredAt: at }, `seed-${i}`)));
    // Until both ledgers own their partitions and every member can redeem.
    for (let round = 0; ; round++) {
      const statuses = await Promise.all(members.map((m) => post(`/v1/members/${m}/redemptions`, { rewardId: 'coffee' }, `warm-${round}-${m}`)));
      if (statuses.every((s) => s === 201)) break;
      if (round === 60) throw new Error(`members could not redeem while warming up: ${JSON.stringify(statuses)}`);
      await sleep(1000);
    }
    const samples: Sample[] = [];
    const inFlight: Promise<unknown>[] = [];
    const t0 = performance.now();
    let killedAt = NaN;
    for (let tick = 0; performance.now() - t0 < seconds * 1000; tick++) {
      if (Number.isNaN(killedAt) && performance.now() - t0 > 5000) {
        victim.child.kill('SIGKILL');
        killedAt = performance.now();
      }
      for (const m of members) {
        const start = performance.now();
        inFlight.push(post(`/v1/members/${m}/redemptions`, { rewardId: 'coffee' }, `run-${tick}-${m}`).then(
          (status) => samples.push({ start, ms: performance.now() - start, status }),
          () => samples.push({ start, ms: performance.now() - start, status: 0 }),
        ));
      }
      await sleep(Math.max(0, t0 + (tick + 1) * 250 - performance.now()));
    }
    await Promise.all(inFlight);
    const after = samples.filter((s) => s.start >= killedAt);
    const bad = after.filter((s) => s.status !== 201 || s.ms > 1000);
    const lastBad = bad.reduce((t, s) => Math.max(t, s.start + s.ms), killedAt);
    const before = samples.filter((s) => s.start < killedAt - 500);
    const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] ?? NaN;
    console.log(
      JSON.stringify({
        members: memberCount,
        requestsBeforeKill: before.length,
        p99BeforeKillMs: Math.round(p99(before.map((s) => s.ms))),
        requestsAfterKill: after.length,
        slowOrFailedAfterKill: bad.length,
        answersOtherThan201: after.filter((s) => s.status !== 201).length,
        longestMs: Math.round(Math.max(...after.map((s) => s.ms))),
        // From the kill to the end of the last redemption that failed or took over 1 s.
        disturbedForMs: Math.round(lastBad - killedAt),
      }),
    );
  } finally {
    await stack.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
