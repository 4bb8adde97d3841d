// A bare Redis round trip from a process of its own, while an HTTP run goes:
//   node redis-probe.js <redis-url> <key> <seconds> [<per-second>]
// One GET every 1/rate s (default 500/s) of a key nobody writes, each timed from its send
// to its answer; one JSON line at the end (ms: n, p50, p90, p99, max). It does nothing the
// API's balance read does not also do, so its tail is a floor for that read's tail in the
// same seconds: what the machine's contention alone costs a process waiting on loopback.
import Redis from 'ioredis';
import { summary } from './util';

async function main(): Promise<void> {
  const [url, key, secondsArg, rateArg] = process.argv.slice(2);
  const seconds = Number(secondsArg);
  const rate = Number(rateArg ?? 500);
  if (!url || !key || !(seconds > 0) || !(rate > 0)) throw new Error('usage: redis-probe.js <redis-url> <key> <seconds> [<per-second>]');
  const redis = new Redis(url, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  await redis.get(key);
  const samples: number[] = [];
  const inFlight: Promise<unknown>[] = [];
  const t0 = performance.now();
  const n = Math.round(rate * seconds);
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    inFlight.push(redis.get(key).then(() => samples.push(performance.now() - sent)));
    if (inFlight.length > 1000) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  redis.disconnect();
  process.stdout.write(JSON.stringify(summary(samples)) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
