// What a ledger that stops costs its members: two ledger processes and the API on a stack of
// their own; members across every partition redeem a reward every 250 ms each; one ledger is
// stopped with --signal (default SIGKILL, a crash; SIGTERM, a graceful stop). Prints how long
// after the signal redemptions kept failing or waiting.
//   npm run build && node dist/scripts/bench/failover.js [--members 24] [--seconds 30] [--signal SIGTERM]
import { intOption, option } from '@loyalty/config';
import { BenchStack } from './lib/stack';
import { sleep, summary } from './lib/util';

interface Sample {
  start: number;
  ms: number;
  status: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const memberCount = intOption(args, 'members', 24);
  const seconds = intOption(args, 'seconds', 30);
  const signal = (option(args, 'signal') ?? 'SIGKILL') as NodeJS.Signals;
  const stack = new BenchStack('f', 12);
  try {
    await stack.up();
    const victim = await stack.start('ledger');
    await stack.start('ledger');
    await stack.start('api');
    // Enough members that most partitions hold some (keys hash over 12 partitions).
    const members = Array.from({ length: memberCount }, (_, i) => `failover-${i}`);
    await stack.fundMembers(members);
    const samples: Sample[] = [];
    const inFlight: Promise<unknown>[] = [];
    const t0 = performance.now();
    let stoppedAt = NaN;
    for (let tick = 0; performance.now() - t0 < seconds * 1000; tick++) {
      if (Number.isNaN(stoppedAt) && performance.now() - t0 > 5000) {
        victim.child.kill(signal);
        stoppedAt = performance.now();
      }
      for (const m of members) {
        const start = performance.now();
        inFlight.push(
          stack.post(`/v1/members/${m}/redemptions`, { rewardId: 'coffee' }, `run-${tick}-${m}`).then(
            (status) => samples.push({ start, ms: performance.now() - start, status }),
            () => samples.push({ start, ms: performance.now() - start, status: 0 }),
          ),
        );
      }
      await sleep(Math.max(0, t0 + (tick + 1) * 250 - performance.now()));
    }
    await Promise.all(inFlight);
    const after = samples.filter((s) => s.start >= stoppedAt);
    const bad = after.filter((s) => s.status !== 201 || s.ms > 1000);
    const lastBad = bad.reduce((t, s) => Math.max(t, s.start + s.ms), stoppedAt);
    const before = samples.filter((s) => s.start < stoppedAt - 500);
    console.log(
      JSON.stringify({
        signal,
        members: memberCount,
        requestsBefore: before.length,
        p99BeforeMs: Math.round(summary(before.map((s) => s.ms)).p99),
        requestsAfter: after.length,
        slowOrFailedAfter: bad.length,
        answersOtherThan201: after.filter((s) => s.status !== 201).length,
        longestMs: Math.round(summary(after.map((s) => s.ms)).max),
        // From the signal to the end of the last redemption that failed or took over 1 s.
        disturbedForMs: Math.round(lastBad - stoppedAt),
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
