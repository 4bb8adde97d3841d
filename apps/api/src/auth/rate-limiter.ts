import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig, Logger } from '@loyalty/config';
import { CONFIG, LOGGER, REDIS } from '../infrastructure/tokens';

export interface RateDecision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: seconds until one token is back (the Retry-After header). */
  retryAfterS: number;
}

/**
 * A token bucket in Redis, refilled continuously: `now` comes from Redis' own clock
 * (TIME), so API instances with skewed clocks share one fair bucket per key, and the
 * read-refill-take-write is one script, atomic under concurrency.
 * Returns {allowed 0|1, tokens left * 1000, ms until one token}.
 */
const TOKEN_BUCKET = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local deferred = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
-- Requests this instance already let through on its local estimate: debited as they are.
tokens = math.max(0, tokens - deferred)
local allowed = 0
if ARGV[4] == '1' then
  if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
local wait = 0
if allowed == 0 then wait = math.ceil((1 - tokens) * 1000 / rate) end
return {allowed, math.floor(tokens * 1000), wait}
`;
const TOKEN_BUCKET_SHA = createHash('sha1').update(TOKEN_BUCKET).digest('hex');

/**
 * A key far from its limit is let through on this instance's word and debited in Redis a
 * moment later (one script call for many requests): after each answer from Redis that
 * leaves at least 2 x LEASE tokens, the next LEASE requests of that key on this instance
 * (within ESTIMATE_MS) do not ask Redis. So N instances can overshoot a key's bucket by at
 * most N x LEASE requests, and a burst below 40 (LEASE 0) is exact: every request asks.
 */
const lease = (burst: number) => (burst < 40 ? 0 : Math.min(50, Math.floor(burst / 20)));
/** How long a local lease is good for before Redis is asked again. */
const ESTIMATE_MS = 250;
/** Deferred debits are flushed this often (and with the next request that asks Redis). */
const FLUSH_MS = 50;

interface Estimate {
  /** Whole tokens Redis reported, less requests let through here since. */
  tokens: number;
  at: number;
  /** Requests this instance may still let through without asking Redis. */
  leaseLeft: number;
  /** Let through here, not yet debited in Redis. */
  deferred: number;
  /** Refused by Redis until then (no token can be back before): refused here without asking. */
  refusedUntil: number;
  retryAfterS: number;
}

/**
 * Per API key rate limit (RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST).
 *
 * Why Redis: a key's limit is a promise about the whole API, not one instance; behind a
 * load balancer N instances with in-memory buckets would let a key through N times over.
 * The API already depends on Redis for balances and leaderboards, the check is one
 * round trip of a tiny script. If Redis does not answer, the limiter falls back to an
 * in-memory bucket per instance (so the API keeps serving from Postgres, still bounded),
 * and says so in one warning per minute.
 */
@Injectable()
export class RateLimiter implements OnApplicationShutdown {
  private readonly estimates = new Map<string, Estimate>();
  private flushTimer?: NodeJS.Timeout;
  private readonly local = new Map<string, { tokens: number; at: number }>();
  private warnedAt = 0;
  private readonly rate: number;
  private readonly burst: number;
  private readonly unlimited: RateDecision;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.rate = config.http.rateLimit.perSecond;
    this.burst = config.http.rateLimit.burst;
    this.unlimited = Object.freeze({ allowed: true, remaining: this.burst, retryAfterS: 0 });
  }

  get limit(): number {
    return this.burst;
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  /**
   * The decision when this instance can make it without Redis (limiter off, a refusal still
   * standing, a local lease left), else undefined: then `take`. Lets the guard answer most
   * requests synchronously.
   */
  takeWithoutRedis(subject: string): RateDecision | undefined {
    if (!this.enabled) return this.unlimited;
    const now = Date.now();
    const est = this.estimates.get(subject);
    if (est && now - est.at < ESTIMATE_MS) {
      if (now < est.refusedUntil) return { allowed: false, remaining: 0, retryAfterS: est.retryAfterS };
      if (est.leaseLeft > 0) {
        est.leaseLeft--;
        est.tokens--;
        est.deferred++;
        this.scheduleFlush();
        return { allowed: true, remaining: Math.floor(est.tokens), retryAfterS: 0 };
      }
    }
    return undefined;
  }

  async take(subject: string): Promise<RateDecision> {
    const local = this.takeWithoutRedis(subject);
    if (local) return local;
    const est = this.estimates.get(subject);
    try {
      // lazyConnect: 'wait' means not connected yet, and the first command connects.
      if (this.redis.status !== 'ready' && this.redis.status !== 'wait') throw new Error(`redis is ${this.redis.status}`);
      const deferred = est?.deferred ?? 0;
      if (est) est.deferred = 0;
      const [allowed, tokensMilli, waitMs] = await this.script(subject, deferred, true);
      const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
      const at = Date.now();
      if (this.estimates.size > 10_000 && !this.estimates.has(subject)) this.estimates.delete(this.estimates.keys().next().value as string);
      const tokens = tokensMilli / 1000;
      const l = lease(this.burst);
      this.estimates.set(subject, {
        tokens,
        at,
        leaseLeft: allowed === 1 && tokens >= 2 * l ? l : 0,
        deferred: this.estimates.get(subject)?.deferred ?? 0,
        refusedUntil: allowed === 1 ? 0 : at + waitMs,
        retryAfterS,
      });
      return { allowed: allowed === 1, remaining: Math.floor(tokensMilli / 1000), retryAfterS };
    } catch (err) {
      if (Date.now() - this.warnedAt > 60_000) {
        this.warnedAt = Date.now();
        this.logger.warn('rate limiter: Redis unavailable, limiting per instance in memory', { error: (err as Error).message });
      }
      return this.takeInMemory(subject);
    }
  }

  private async script(subject: string, deferred: number, take: boolean): Promise<[number, number, number]> {
    const key = `${this.config.redis.keyPrefix}ratelimit:${subject}`;
    const args = [key, this.rate, this.burst, deferred, take ? '1' : '0'];
    try {
      return (await this.redis.evalsha(TOKEN_BUCKET_SHA, 1, ...args)) as [number, number, number];
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return (await this.redis.eval(TOKEN_BUCKET, 1, ...args)) as [number, number, number];
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return; // called for every leased request: unref once, not each time
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, FLUSH_MS);
    this.flushTimer.unref?.();
  }

  /** Debits in Redis what was let through locally. */
  private async flush(): Promise<void> {
    for (const [subject, est] of this.estimates) {
      if (est.deferred === 0) continue;
      const n = est.deferred;
      est.deferred = 0;
      await this.script(subject, n, false).catch(() => undefined);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush();
  }

  private takeInMemory(subject: string): RateDecision {
    const now = Date.now();
    const b = this.local.get(subject) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.rate) / 1000);
    b.at = now;
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    this.local.set(subject, b);
    if (this.local.size > 10_000) this.local.delete(this.local.keys().next().value as string);
    return { allowed, remaining: Math.floor(b.tokens), retryAfterS: allowed ? 0 : Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / this.rate / 1000)) };
  }
}
