// The per-key token bucket against a real Redis: exact for small bursts, leased locally
// (debited a moment later) for big ones, and refusals answered without asking Redis again.
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { AppConfig, Logger } from '@loyalty/config';
import { RateLimiter } from '../src/auth/rate-limiter';

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

describe('RateLimiter', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `rl_test_${randomBytes(4).toString('hex')}:`;
  const limiter = (perSecond: number, burst: number) =>
    new RateLimiter(redis, { redis: { keyPrefix: prefix }, http: { rateLimit: { perSecond, burst } } } as unknown as AppConfig, logger);

  beforeAll(async () => {
    await redis.ping();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('a burst of 3 shared by two instances lets exactly 3 through', async () => {
    const a = limiter(1, 3);
    const b = limiter(1, 3);
    const allowed = [];
    for (let i = 0; i < 6; i++) allowed.push((await (i % 2 ? a : b).take('k-small')).allowed);
    expect(allowed).toEqual([true, true, true, false, false, false]);
  });

  it('a burst of 200 on one instance: exactly 200 (within the refill of the test), most of them without a Redis call, all debited in Redis', async () => {
    const l = limiter(1, 200);
    const calls = jest.spyOn(redis, 'evalsha');
    const t0 = Date.now();
    let allowed = 0;
    for (let i = 0; i < 260; i++) if ((await l.take('k-big')).allowed) allowed++;
    const refill = Math.ceil((Date.now() - t0) / 1000) + 1;
    expect(allowed).toBeGreaterThanOrEqual(200);
    expect(allowed).toBeLessThanOrEqual(200 + refill);
    expect(calls.mock.calls.length).toBeLessThan(120);
    calls.mockRestore();
    await l.onApplicationShutdown();
    const tokens = Number(await redis.hget(`${prefix}ratelimit:k-big`, 'tokens'));
    expect(tokens).toBeLessThan(1 + refill);
  });

  it('two instances with leases overshoot a bucket of 200 by at most one lease each', async () => {
    const a = limiter(1, 200);
    const b = limiter(1, 200);
    let allowed = 0;
    for (let i = 0; i < 300; i++) if ((await (i % 2 ? a : b).take('k-two')).allowed) allowed++;
    expect(allowed).toBeGreaterThanOrEqual(200);
    expect(allowed).toBeLessThanOrEqual(200 + 2 * 10 + 2);
  });

  it('takeWithoutRedis decides only what needs no Redis call: off, a lease left, a refusal standing; else it leaves the request to take()', async () => {
    expect(limiter(0, 5).takeWithoutRedis('k-off')).toEqual({ allowed: true, remaining: 5, retryAfterS: 0 });
    const big = limiter(1, 200);
    expect(big.takeWithoutRedis('k-lease')).toBeUndefined();
    expect((await big.take('k-lease')).allowed).toBe(true);
    const calls = jest.spyOn(redis, 'evalsha');
    expect(big.takeWithoutRedis('k-lease')).toMatchObject({ allowed: true });
    expect(calls).not.toHaveBeenCalled();
    calls.mockRestore();
    await big.onApplicationShutdown();

    const small = limiter(1, 1);
    expect((await small.take('k-refused')).allowed).toBe(true);
    expect((await small.take('k-refused')).allowed).toBe(false);
    expect(small.takeWithoutRedis('k-refused')).toMatchObject({ allowed: false, remaining: 0 });
  });
});
