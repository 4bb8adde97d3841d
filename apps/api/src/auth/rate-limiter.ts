import { Inject, Injectable } from '@nestjs/common';
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
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
local wait = 0
if allowed == 0 then wait = math.ceil((1 - tokens) * 1000 / rate) end
return {allowed, math.floor(tokens * 1000), wait}
`;

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
export class RateLimiter {
  private readonly local = new Map<string, { tokens: number; at: number }>();
  private warnedAt = 0;
  private readonly rate: number;
  private readonly burst: number;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.rate = config.http.rateLimit.perSecond;
    this.burst = config.http.rateLimit.burst;
  }

  get limit(): number {
    return this.burst;
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  async take(subject: string): Promise<RateDecision> {
    if (!this.enabled) return { allowed: true, remaining: this.burst, retryAfterS: 0 };
    try {
      // lazyConnect: 'wait' means not connected yet, and the first command connects.
      if (this.redis.status !== 'ready' && this.redis.status !== 'wait') throw new Error(`redis is ${this.redis.status}`);
      const key = `${this.config.redis.keyPrefix}ratelimit:${subject}`;
      const [allowed, tokensMilli, waitMs] = (await this.redis.eval(TOKEN_BUCKET, 1, key, this.rate, this.burst)) as [number, number, number];
      return { allowed: allowed === 1, remaining: Math.floor(tokensMilli / 1000), retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch (err) {
      if (Date.now() - this.warnedAt > 60_000) {
        this.warnedAt = Date.now();
        this.logger.warn('rate limiter: Redis unavailable, limiting per instance in memory', { error: (err as Error).message });
      }
      return this.takeLocally(subject);
    }
  }

  private takeLocally(subject: string): RateDecision {
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
