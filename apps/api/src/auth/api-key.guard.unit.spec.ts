// The guard answers synchronously when it can (cached key, local rate decision) and with a
// promise otherwise; both paths must give the same answers: principal, 401, 403, 429.
import { Controller, Get, HttpException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { AppConfig, Logger } from '@loyalty/config';
import { ApiKeyGuard, Public, RequiresRole, type Principal } from './api-key.guard';
import { ApiKeyStore, hashKey, hashKeyHex } from './api-key-store';
import type { RateDecision, RateLimiter } from './rate-limiter';

@Controller('t')
class Routes {
  @Get('read') @RequiresRole('reader') read() {}
  @Get('write') @RequiresRole('writer') write() {}
  @Get('open') @Public() open() {}
}

const BOOT = 'bootstrap-key-for-the-test';
const logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

function setup(o: { local?: RateDecision | undefined; remote?: RateDecision; enabled?: boolean } = {}) {
  const keys = new Map<string, Principal>([[hashKeyHex('lk_reader'), { id: 'r1', name: 'reader one', role: 'reader' }]]);
  const store = {
    findActive: jest.fn(async (hash: Buffer) => keys.get(hash.toString('hex')) ?? null),
    touch: jest.fn(async () => undefined),
  } as unknown as ApiKeyStore;
  const allowed: RateDecision = { allowed: true, remaining: 9, retryAfterS: 0 };
  const limiter = {
    enabled: o.enabled ?? true,
    limit: 10,
    takeWithoutRedis: jest.fn(() => ('local' in o ? o.local : allowed)),
    take: jest.fn(async () => o.remote ?? allowed),
  } as unknown as RateLimiter;
  const config = { http: { bootstrapApiKey: BOOT } } as unknown as AppConfig;
  const guard = new ApiKeyGuard(new Reflector(), store, limiter, config, logger);
  const call = (route: 'read' | 'write' | 'open', authorization?: string) => {
    const req = { headers: authorization ? { authorization } : {}, principal: null as Principal | null };
    const headers: Record<string, string> = {};
    const reply = { header: (k: string, v: string) => (headers[k] = v) };
    const ctx = new ExecutionContextHost([req, reply, () => undefined], Routes, Routes.prototype[route]);
    let result: boolean | Promise<boolean> | undefined;
    let thrown: unknown;
    try {
      result = guard.canActivate(ctx);
    } catch (err) {
      thrown = err;
    }
    return { req, headers, result, thrown };
  };
  return { call, store, limiter };
}

const statusOf = (err: unknown) => (err as HttpException).getStatus();

describe('ApiKeyGuard', () => {
  it('hashKeyHex is hashKey in hex (keys stored by either match)', () => {
    for (const k of ['lk_abc', 'é-ü-key', 'x'.repeat(256)]) expect(hashKeyHex(k)).toBe(hashKey(k).toString('hex'));
  });

  it('given the bootstrap key, then it is admitted at once (a boolean, no promise) as admin, with the rate headers', () => {
    const { call } = setup();
    const { result, req, headers } = call('write', `Bearer ${BOOT}`);
    expect(result).toBe(true);
    expect(req.principal).toEqual({ id: 'bootstrap', name: 'bootstrap', role: 'admin' });
    expect(headers).toEqual({ 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '9' });
  });

  it('given a stored key, then the first request waits for the lookup and the next ones are answered from the cache, with the same principal', async () => {
    const { call, store } = setup();
    const first = call('read', 'Bearer lk_reader');
    expect(first.result).toBeInstanceOf(Promise);
    await expect(first.result).resolves.toBe(true);
    const second = call('read', 'Bearer lk_reader');
    expect(second.result).toBe(true);
    expect(second.req.principal).toEqual(first.req.principal);
    expect(first.req.principal).toEqual({ id: 'r1', name: 'reader one', role: 'reader' });
    expect(store.findActive).toHaveBeenCalledTimes(1);
  });

  it('given no key, a malformed header or an unknown key, then 401 with WWW-Authenticate, looked up or cached', async () => {
    const { call } = setup();
    const none = call('read');
    expect(statusOf(none.thrown)).toBe(401);
    expect(none.headers['WWW-Authenticate']).toBe('Bearer');
    expect(statusOf(call('read', 'Basic abc').thrown)).toBe(401);
    const unknown = call('read', 'Bearer lk_nobody');
    await expect(unknown.result).rejects.toMatchObject({ status: 401 });
    const cached = call('read', 'Bearer lk_nobody');
    expect(statusOf(cached.thrown)).toBe(401);
    expect(cached.headers['WWW-Authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('given a reader key on a writer route, then 403, synchronously once cached', async () => {
    const { call } = setup();
    await expect(call('write', 'Bearer lk_reader').result).rejects.toMatchObject({ status: 403 });
    expect(statusOf(call('write', 'Bearer lk_reader').thrown)).toBe(403);
  });

  it('given a rate decision only Redis can make, then the answer is a promise with the same outcome; a refusal is a 429 with Retry-After', async () => {
    const refused = setup({ local: undefined, remote: { allowed: false, remaining: 0, retryAfterS: 3 } });
    const r = refused.call('read', `Bearer ${BOOT}`);
    await expect(r.result).rejects.toMatchObject({ status: 429 });
    expect(r.headers).toMatchObject({ 'Retry-After': '3', 'X-RateLimit-Remaining': '0' });
    expect(refused.limiter.take).toHaveBeenCalledTimes(1);

    const admitted = setup({ local: undefined });
    await expect(admitted.call('read', `Bearer ${BOOT}`).result).resolves.toBe(true);

    const refusedLocally = setup({ local: { allowed: false, remaining: 0, retryAfterS: 2 } });
    const l = refusedLocally.call('read', `Bearer ${BOOT}`);
    expect(statusOf(l.thrown)).toBe(429);
    expect(l.headers['Retry-After']).toBe('2');
  });

  it('given a public route, then no key is needed; with the limiter off, no rate headers', () => {
    expect(setup().call('open').result).toBe(true);
    const { headers, result } = setup({ enabled: false }).call('read', `Bearer ${BOOT}`);
    expect(result).toBe(true);
    expect(headers).toEqual({});
  });
});
