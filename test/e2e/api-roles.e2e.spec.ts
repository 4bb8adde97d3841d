// The role matrix of the HTTP API (CONTRACT: reader < writer, analyst, operator < admin):
// every route of the OpenAPI document tried with no key, an unknown key, every role that
// may not (403) and every role that may; keys made by `loyalty keys create`, revoked by
// `loyalty keys revoke`; adjustments record the key as the actor; no key in any log;
// the per-key rate limit shared by API instances through Redis.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { createStack, eventually, freePort, type Stack } from '../support/stack';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
type Role = 'reader' | 'writer' | 'analyst' | 'operator' | 'admin';
const ROLES: Role[] = ['reader', 'writer', 'analyst', 'operator', 'admin'];
const allows = (have: Role, need: Role) => have === 'admin' || have === need || need === 'reader';

/** Every route of the API and the role it needs, as CONTRACT says (the test checks /docs-json lists exactly these). */
const ROUTES: Array<[method: string, path: string, role: Role | 'public']> = [
  ['get', '/health', 'public'],
  ['get', '/metrics', 'public'],
  ['post', '/v1/purchases', 'writer'],
  ['post', '/v1/members', 'writer'],
  ['get', '/v1/members/{id}', 'reader'],
  ['get', '/v1/members/{id}/balance', 'reader'],
  ['get', '/v1/members/{id}/statement', 'reader'],
  ['post', '/v1/members/{id}/redemptions', 'writer'],
  ['post', '/v1/members/{id}/adjustments', 'operator'],
  ['get', '/v1/commands/{commandId}', 'reader'],
  ['get', '/v1/rewards', 'reader'],
  ['get', '/v1/leaderboards/{board}', 'reader'],
  ['get', '/v1/leaderboards/{board}/members/{id}', 'reader'],
  ['get', '/v1/analytics/summary', 'analyst'],
  ['get', '/v1/analytics/daily', 'analyst'],
  ['get', '/v1/analytics/tiers', 'analyst'],
  ['get', '/v1/analytics/cohorts', 'analyst'],
  ['get', '/v1/analytics/segments', 'analyst'],
  ['get', '/v1/analytics/channels', 'analyst'],
  ['get', '/v1/analytics/freshness', 'analyst'],
  ['get', '/v1/projections', 'operator'],
];

let stack: Stack;
const keys = {} as Record<Role, { id: string; key: string; name: string }>;
const logs: string[] = [];

async function loyalty(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'dist', 'apps', 'ops', 'main.js'), ...args], { cwd: ROOT, env: { ...process.env, ...stack.env } });
  return stdout;
}

async function createKey(role: Role, name: string): Promise<{ id: string; key: string; name: string }> {
  const out = JSON.parse(await loyalty('keys', 'create', '--role', role, '--name', name, '--json'));
  return { id: out.id, key: out.key, name };
}

function capture(child: ChildProcess): void {
  child.stdout!.on('data', (b: Buffer) => logs.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => logs.push(b.toString()));
}

async function call(method: string, url: string, key?: string, body?: unknown, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...extra };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: method.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

const concrete = (p: string) => p.replace('{id}', 'm-matrix').replace('{board}', 'points').replace('{commandId}', 'enrol:none');

beforeAll(async () => {
  stack = await createStack({ partitions: 2 });
  const env = { RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000', LOG_LEVEL: 'debug' };
  const [, , api] = await Promise.all([stack.start('ledger'), stack.start('projector'), stack.start('api', env)]);
  capture(api);
  const made = await Promise.all(ROLES.map((r) => createKey(r, `matrix-${r}`)));
  ROLES.forEach((r, i) => (keys[r] = made[i]));
});

afterAll(async () => {
  await stack?.teardown();
});

describe('API keys and roles', () => {
  it('given the OpenAPI document, then it lists exactly the routes of the matrix, each with its role', async () => {
    const doc = (await call('get', `${stack.apiUrl}/docs-json`)).body;
    const documented = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => [m, p, op['x-required-role']] as const),
    );
    expect(documented.map(([m, p, r]) => `${m} ${p} ${r}`).sort()).toEqual(ROUTES.map(([m, p, r]) => `${m} ${p} ${r}`).sort());
    expect(doc.components.securitySchemes['api-key']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.ErrorBody.required).toEqual(expect.arrayContaining(['error', 'message']));
    // Every operation documents its success and error answers with schemas.
    for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const op of Object.values(ops)) {
        expect([p, Object.keys(op.responses).some((s) => s.startsWith('2'))]).toEqual([p, true]);
        if (op['x-required-role'] !== 'public') expect([p, op.security]).toEqual([p, [{ 'api-key': [] }]]);
      }
    }
    const ui = await fetch(`${stack.apiUrl}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
  });

  it.each(ROUTES)('%s %s (role %s): no key 401, unknown key 401, a role that may not 403, a role that may passes', async (method, route, role) => {
    const url = `${stack.apiUrl}${concrete(route)}`;
    const body = method === 'post' ? {} : undefined;
    const extra = { 'idempotency-key': 'matrix' };
    if (role === 'public') {
      const res = await call(method, url);
      expect(res.status).toBeLessThan(400);
      return;
    }
    const none = await call(method, url, undefined, body, extra);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const unknown = await call(method, url, 'lk_' + 'x'.repeat(43), body, extra);
    expect(unknown.status).toBe(401);

    for (const r of ROLES) {
      const res = await call(method, url, keys[r].key, body, extra);
      if (allows(r, role)) {
        // Past the guard: a query answers (200, or 404 for the unknown member), a command
        // with an empty body is refused by validation (400), never 401/403/5xx.
        expect([200, 400, 404]).toContain(res.status);
        if (method === 'post') expect(res.body.error).toBe('invalid_request');
      } else {
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ error: 'forbidden', details: { required: role, role: r } });
      }
    }
    const bootstrap = await call(method, url, stack.apiKey, body, extra);
    expect([200, 400, 404]).toContain(bootstrap.status);
  });

  it('given a writer and an operator key, when enrolling and adjusting, then the adjustment records the key as its actor', async () => {
    const memberId = `actor-${stack.id}`;
    const enrolled = await call('post', `${stack.apiUrl}/v1/members`, keys.writer.key, { memberId });
    expect(enrolled.status).toBe(201);
    const adjusted = await call('post', `${stack.apiUrl}/v1/members/${memberId}/adjustments`, keys.operator.key, { points: 25, reason: 'matrix' }, { 'idempotency-key': 'a1' });
    expect(adjusted.status).toBe(201);
    await call('get', `${stack.apiUrl}/v1/members/${memberId}/balance?minSequence=${adjusted.body.sequence}`, keys.reader.key);
    const statement = await eventually(
      () => call('get', `${stack.apiUrl}/v1/members/${memberId}/statement`, keys.reader.key),
      (s) => s.status === 200 && s.body.entries.some((e: any) => e.type === 'PointsAdjusted'),
    );
    const entry = statement.body.entries.find((e: any) => e.type === 'PointsAdjusted');
    expect(entry.data.actor).toBe(`api-key:${keys.operator.name} (${keys.operator.id})`);
  });

  it('given a key, when revoked with `loyalty keys revoke`, then the API refuses it within seconds; `keys list` never shows a key', async () => {
    const temp = await createKey('reader', 'to-revoke');
    expect((await call('get', `${stack.apiUrl}/v1/rewards`, temp.key)).status).toBe(200);
    expect(await loyalty('keys', 'revoke', temp.id)).toMatch(/revoked/);
    const after = await eventually(() => call('get', `${stack.apiUrl}/v1/rewards`, temp.key), (r) => r.status === 401, 10_000);
    expect(after.status).toBe(401);

    const listed = await loyalty('keys', 'list');
    const json = await loyalty('keys', 'list', '--json');
    for (const k of [...Object.values(keys), temp]) {
      expect(listed).not.toContain(k.key);
      expect(json).not.toContain(k.key);
    }
    expect(JSON.parse(json).find((k: any) => k.id === temp.id).revokedAt).not.toBeNull();
    // Only hashes are stored, outside the read-model schema a replay swaps.
    const { rows } = await stack.pool.query(`SELECT table_schema, column_name FROM information_schema.columns WHERE table_name = 'api_keys'`);
    expect(new Set(rows.map((r) => r.table_schema))).toEqual(new Set(['loyalty_auth']));
    const stored = await stack.pool.query(`SELECT row_to_json(k)::text AS row FROM loyalty_auth.api_keys k`);
    for (const r of stored.rows) for (const k of Object.values(keys)) expect(r.row).not.toContain(k.key);
  });

  it('given two API instances with a limit of 1/s and a burst of 3, when one key calls both, then they share one bucket: 429 with Retry-After, other keys unaffected', async () => {
    const env = { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' };
    const ports = [await freePort(), await freePort()];
    const [a, b] = await Promise.all(ports.map((port) => stack.start('api', { ...env, PORT: String(port) })));
    capture(a);
    capture(b);
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    const limited = await createKey('reader', 'limited');
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await call('get', `${urls[i % 2]}/v1/rewards`, limited.key);
      statuses.push(res.status);
      if (res.status === 429) refused ??= res;
    }
    expect(statuses.filter((s) => s === 200).length).toBe(3);
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
    expect(refused!.body).toMatchObject({ error: 'rate_limited', message: expect.any(String) });
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another key has its own bucket.
    expect((await call('get', `${urls[0]}/v1/rewards`, keys.reader.key)).status).toBe(200);
    // The bucket refills at the configured rate.
    await new Promise((r) => setTimeout(r, 1100 * Number(refused!.headers.get('retry-after'))));
    expect((await call('get', `${urls[1]}/v1/rewards`, limited.key)).status).toBe(200);
    await Promise.all([stack.stop(a), stack.stop(b)]);
  });

  it('given everything above, then no API key appeared in any log line of the API', () => {
    const all = logs.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const k of [...Object.values(keys), { key: stack.apiKey }]) expect(all).not.toContain(k.key);
  });
});
