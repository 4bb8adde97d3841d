import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AppConfig, Logger } from '@loyalty/config';
import { apiError } from '../common/error.filter';
import type { HttpReply, HttpRequest } from '../common/http-server';
import { CONFIG, LOGGER } from '../infrastructure/tokens';
import { ApiKeyStore, hashKeyHex, roleAllows, type Role } from './api-key-store';
import { RateLimiter, type RateDecision } from './rate-limiter';

export type { Role } from './api-key-store';
export const ROLE_KEY = 'loyalty:role';
/** The least role a route needs (CONTRACT: reader < writer, analyst, operator < admin). */
export const RequiresRole = (role: Role) => SetMetadata(ROLE_KEY, role);
/** A route anyone may call (health, metrics, docs, the dashboard's static files). */
export const Public = () => SetMetadata(ROLE_KEY, 'public');

/** Who is calling: the key's id, name and role (never the key itself). */
export interface Principal {
  id: string;
  name: string;
  role: Role;
}

type AuthedRequest = HttpRequest & { principal?: Principal | null };

/** The caller of this request, set by the guard (for routes that are not public). */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const p = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!p) throw new Error('no principal on a route that requires a role');
  return p;
});

/** How long a key looked up in Postgres is trusted: a revocation takes effect within this. */
export const KEY_CACHE_MS = 5_000;
/** When Postgres does not answer, a key seen within this long is still accepted. */
const STALE_IF_ERROR_MS = 5 * 60_000;
const TOUCH_EVERY_MS = 60_000;
const CACHE_MAX = 10_000;
const KEY_MAX_LENGTH = 256;

const BOOTSTRAP: Principal = Object.freeze({ id: 'bootstrap', name: 'bootstrap', role: 'admin' });

interface Cached {
  principal: Principal | null;
  fetchedAt: number;
}

/**
 * Bearer API keys on every route. Order: authenticate (401), rate-limit the key (429),
 * authorise the role (403). A route without @RequiresRole or @Public needs admin: a route
 * someone forgot to mark is closed, not open.
 *
 * Keys: the bootstrap key (LOYALTY_BOOTSTRAP_API_KEY) is an admin; other keys are looked
 * up by their SHA-256 in loyalty_auth.api_keys and cached for KEY_CACHE_MS (unknown keys
 * too, so a stream of bad keys costs one query per key per period). Keys never reach a log.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  /** SHA-256 of the bootstrap key, hex. */
  private readonly bootstrap?: string;
  private readonly limitHeader: string;
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<Principal | null>>();
  private readonly touched = new Map<string, number>();
  /** The role each route handler declares (metadata is fixed at start): one lookup per handler. */
  private readonly declared = new WeakMap<object, Role | 'public'>();

  constructor(
    private readonly reflector: Reflector,
    private readonly store: ApiKeyStore,
    private readonly limiter: RateLimiter,
    @Inject(CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.bootstrap = config.http.bootstrapApiKey ? hashKeyHex(config.http.bootstrapApiKey) : undefined;
    this.limitHeader = String(limiter.limit);
  }

  /**
   * Synchronous when the key is in the cache and the rate limiter can answer without Redis
   * (the common case): Nest awaits a promise a guard returns, and each await is CPU on every
   * request. Otherwise the same checks, awaited.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const handler = context.getHandler();
    let declared = this.declared.get(handler);
    if (declared === undefined) {
      declared = this.reflector.getAllAndOverride<Role | 'public' | undefined>(ROLE_KEY, [handler, context.getClass()]) ?? 'admin';
      this.declared.set(handler, declared);
    }
    if (declared === 'public') return true;
    const need: Role = declared;
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest>();
    const reply = http.getResponse<HttpReply>();

    const header = req.headers.authorization ?? '';
    const match = /^Bearer +(\S{1,256})$/i.exec(header);
    if (!match) {
      reply.header('WWW-Authenticate', 'Bearer');
      throw apiError(401, 'unauthorized', 'missing bearer API key (Authorization: Bearer <key>)');
    }
    const known = this.authenticate(match[1]);
    if (known instanceof Promise) return known.then((principal) => this.admit(principal, need, req, reply));
    return this.admit(known, need, req, reply);
  }

  private admit(principal: Principal | null, need: Role, req: AuthedRequest, reply: HttpReply): boolean | Promise<boolean> {
    if (!principal) {
      reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw apiError(401, 'unauthorized', 'unknown or revoked API key');
    }
    const now = this.limiter.takeWithoutRedis(principal.id);
    if (now) return this.authorise(principal, need, now, req, reply);
    return this.limiter.take(principal.id).then((rate) => this.authorise(principal, need, rate, req, reply));
  }

  private authorise(principal: Principal, need: Role, rate: RateDecision, req: AuthedRequest, reply: HttpReply): boolean {
    if (this.limiter.enabled) {
      reply.header('X-RateLimit-Limit', this.limitHeader);
      reply.header('X-RateLimit-Remaining', String(rate.remaining));
    }
    if (!rate.allowed) {
      reply.header('Retry-After', String(rate.retryAfterS));
      throw apiError(429, 'rate_limited', `too many requests for this API key; retry after ${rate.retryAfterS} s`, { retryAfterSeconds: rate.retryAfterS });
    }

    if (!roleAllows(principal.role, need)) {
      throw apiError(403, 'forbidden', `this route needs the ${need} role; this key has the ${principal.role} role`, { required: need, role: principal.role });
    }
    req.principal = principal;
    return true;
  }

  /** The key's principal (null: unknown or revoked), at once when cached, else after a lookup. */
  private authenticate(key: string): Principal | null | Promise<Principal | null> {
    if (key.length > KEY_MAX_LENGTH) return null;
    const id = hashKeyHex(key);
    // A plain comparison of digests, as the cache's lookup by digest below: its timing can
    // only tell how much of SHA-256(guess) matches, which does not help to find the key.
    if (id === this.bootstrap) return BOOTSTRAP;
    const cached = this.cache.get(id);
    if (cached && Date.now() - cached.fetchedAt < KEY_CACHE_MS) return cached.principal;
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.lookup(id, Buffer.from(id, 'hex'), cached).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  private async lookup(id: string, hash: Buffer, stale: Cached | undefined): Promise<Principal | null> {
    let principal: Principal | null;
    try {
      principal = await this.store.findActive(hash);
    } catch (err) {
      if (stale && Date.now() - stale.fetchedAt < STALE_IF_ERROR_MS) return stale.principal;
      this.logger.warn('API key lookup failed', { error: (err as Error).message, code: (err as { code?: string }).code });
      throw apiError(503, 'unavailable', 'API keys cannot be checked right now; retry later');
    }
    this.cache.delete(id);
    this.cache.set(id, { principal, fetchedAt: Date.now() });
    if (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    if (principal && Date.now() - (this.touched.get(principal.id) ?? 0) > TOUCH_EVERY_MS) {
      this.touched.set(principal.id, Date.now());
      this.store.touch(principal.id).catch(() => undefined);
    }
    return principal;
  }
}
