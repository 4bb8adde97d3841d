// A fuzz of malformed bodies, path parameters, query strings and headers against the
// running API (fast-check generates them): always a 4xx in the `{error, message}` shape,
// never a 5xx, and nothing written: the commands and purchases topics stay empty.
import fc from 'fast-check';
import { createStack, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack({ partitions: 2 });
  // The API alone: a write that got through would show as a message on a topic.
  await stack.start('api', { RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000' });
});

afterAll(async () => {
  await stack?.teardown();
});

async function topicTotals(): Promise<Record<string, number>> {
  const admin = stack.kafka.admin();
  await admin.connect();
  try {
    const out: Record<string, number> = {};
    for (const topic of [stack.topics.commands, stack.topics.purchases]) {
      out[topic] = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

type Sent = { status: number; body: any };

async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body,
  });
  const text = await res.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* checked below */
  }
  return { status: res.status, body: json };
}

/** The property every refused request has. */
function refused(r: Sent, context: unknown): void {
  if (!(r.status >= 400 && r.status < 500) || typeof r.body?.error !== 'string' || typeof r.body?.message !== 'string') {
    throw new Error(`expected a 4xx {error, message}, got ${r.status} ${JSON.stringify(r.body).slice(0, 300)} for ${JSON.stringify(context).slice(0, 300)}`);
  }
}

// ------------------------------------------------------------------ values that break each kind of field

const notString = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));
const badId = (required: boolean) =>
  fc.oneof(fc.constant(''), fc.string({ minLength: 129, maxLength: 3000 }), notString, ...(required ? [fc.constant(null)] : []));
const badText = (max: number) => fc.oneof(fc.constant(''), fc.string({ minLength: max + 1, maxLength: max + 2000 }), notString);
const fractional = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).filter((x) => !Number.isInteger(x));
const badInt = (min: number, max: number) =>
  fc.oneof(
    fractional,
    fc.integer({ min: -1e15, max: min - 1 }),
    fc.integer({ min: max + 1, max: Number.MAX_SAFE_INTEGER }),
    fc.integer().map(String),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 2 }),
  );
const badDate = fc.oneof(fc.constantFrom('2025-02-30', '2025-13-01', '20250101', 'yesterday', '2025-01-01T00:00'), notString);

interface BodyRoute {
  path: string;
  headers?: Record<string, string>;
  valid: Record<string, unknown>;
  fields: Record<string, fc.Arbitrary<unknown>>;
}

const now = new Date().toISOString();
const BODY_ROUTES: BodyRoute[] = [
  {
    path: '/v1/purchases',
    valid: { purchaseId: 'p-1', memberId: 'm-1', amount: 1250, currency: 'USD', occurredAt: now, channel: 'store', items: [{ sku: 's', category: 'c', quantity: 1, unitPrice: 1250 }] },
    fields: {
      purchaseId: badId(true),
      memberId: badId(true),
      amount: badInt(1, 1e12),
      currency: fc.oneof(fc.constantFrom('usd', 'US', 'USDX', ''), notString),
      occurredAt: fc.oneof(fc.constantFrom('2025-01-01', '2025-01-01T00:00:00', 'now', ''), notString),
      channel: fc.oneof(fc.constantFrom('mail', 'STORE', ''), fc.integer()),
      kind: fc.oneof(fc.constantFrom('refund', 'purchases', ''), fc.integer()), // refund without refundId is invalid too
      items: fc.oneof(fc.constant('items'), fc.array(fc.anything({ maxDepth: 1 }), { minLength: 1, maxLength: 3 }).filter((a) => a.some((i) => typeof i !== 'object' || i === null || Array.isArray(i)))),
      storeId: badText(128),
    },
  },
  {
    path: '/v1/members',
    valid: { memberId: 'm-1', name: 'Ada', email: 'ada@example.com', birthday: '1990-12-10' },
    fields: { memberId: badId(true), name: badText(200), email: fc.oneof(fc.constantFrom('ada', 'a@', '@b.c', ''), notString), birthday: badDate, referredBy: badId(false) },
  },
  {
    path: '/v1/members/m-1/redemptions',
    headers: { 'idempotency-key': 'fuzz' },
    valid: { rewardId: 'coffee' },
    fields: { rewardId: badId(true) },
  },
  {
    path: '/v1/members/m-1/redemptions',
    headers: { 'idempotency-key': 'fuzz' },
    valid: { points: 100, reference: 'order-1' },
    fields: { points: badInt(1, 1e9), reference: badId(true) },
  },
  {
    path: '/v1/members/m-1/adjustments',
    headers: { 'idempotency-key': 'fuzz' },
    valid: { points: -120, reason: 'goodwill' },
    fields: { points: fc.oneof(badInt(-1e9, 1e9), fc.constant(0)), reason: badText(500) },
  },
];

/** A valid body with one field broken, and sometimes an unknown field or a huge string on top. */
function brokenBody(route: BodyRoute): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(route.fields);
  return fc
    .record({
      field: fc.constantFrom(...names),
      seed: fc.nat(),
      extra: fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 40 }).filter((k) => !(k in route.valid) && !(k in route.fields) && k !== '__proto__'), fc.jsonValue({ maxDepth: 2 })), { nil: undefined }),
    })
    .chain(({ field, extra }) =>
      route.fields[field].map((bad) => {
        const body: Record<string, unknown> = { ...route.valid, [field]: bad };
        if (extra) body[extra[0]] = extra[1];
        return body;
      }),
    );
}

describe('the API refuses malformed input: always 4xx, never 5xx, nothing written', () => {
  let before: Record<string, number>;

  beforeAll(async () => {
    before = await topicTotals();
  });

  it.each(BODY_ROUTES.map((r) => [r.path, r] as const))('POST %s with one field broken (wrong type, empty, huge, negative, fractional, zero) → 400 naming it', async (_p, route) => {
    await fc.assert(
      fc.asyncProperty(brokenBody(route), async (body) => {
        const r = await send('POST', route.path, JSON.stringify(body), route.headers);
        refused(r, body);
        if (r.status !== 400 && r.status !== 413) throw new Error(`expected 400/413, got ${r.status}`);
      }),
      { numRuns: 120 },
    );
  });

  it.each(BODY_ROUTES.map((r) => [r.path, r] as const))('POST %s with an unknown field → 400 naming that field', async (_p, route) => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 30 }).filter((k) => /^[a-z]\w*$/i.test(k) && !(k in route.fields) && !(k in route.valid) && k !== 'kind' && k !== 'refundId'), fc.jsonValue({ maxDepth: 2 }), async (key, value) => {
        const r = await send('POST', route.path, JSON.stringify({ ...route.valid, [key]: value }), route.headers);
        refused(r, key);
        expect(r.status).toBe(400);
        expect(r.body.message).toContain(key);
      }),
      { numRuns: 40 },
    );
  });

  it.each(BODY_ROUTES.map((r) => [r.path, r] as const))('POST %s with bodies that are not a JSON object (arrays, scalars, broken JSON, deep nesting) → 400', async (_p, route) => {
    const notObject = fc.oneof(
      fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
      fc.integer({ min: 9, max: 2000 }).map((d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d)),
      fc.constant('{"memberId":"m-1",'),
      fc.constant(''),
    );
    await fc.assert(
      fc.asyncProperty(notObject, async (raw) => {
        const r = await send('POST', route.path, raw, route.headers);
        refused(r, raw);
      }),
      { numRuns: 60 },
    );
  });

  it('oversized bodies → 413; other media types and encodings → 4xx; missing or huge Idempotency-Key → 400', async () => {
    const huge = JSON.stringify({ memberId: 'm-1', name: 'x'.repeat(70_000) });
    const big = await send('POST', '/v1/members', huge);
    expect(big.status).toBe(413);
    expect(big.body.error).toBe('payload_too_large');
    const items = Array.from({ length: 900 }, (_, i) => ({ sku: `sku-${i}-${'x'.repeat(40)}`, category: 'c', quantity: 1, unitPrice: 1 }));
    const manyItems = await send('POST', '/v1/purchases', JSON.stringify({ purchaseId: 'p', memberId: 'm', amount: 900, currency: 'USD', occurredAt: now, items }));
    expect(manyItems.status).toBe(413);
    refused(await send('POST', '/v1/members', 'memberId=m-1', { 'content-type': 'application/x-www-form-urlencoded' }), 'form');
    refused(await send('POST', '/v1/members', '{"memberId":"m-1"}', { 'content-type': 'text/plain' }), 'text');
    refused(await send('POST', '/v1/members', '{"memberId":"m-1"}', { 'content-type': 'application/json; charset=utf-16' }), 'utf-16');
    refused(await send('POST', '/v1/members', 'not gzip', { 'content-encoding': 'gzip' }), 'gzip');
    const noKey = await send('POST', '/v1/members/m-1/adjustments', JSON.stringify({ points: 5, reason: 'r' }));
    expect(noKey.body.error).toBe('missing_idempotency_key');
    const hugeKey = await send('POST', '/v1/members/m-1/adjustments', JSON.stringify({ points: 5, reason: 'r' }), { 'idempotency-key': 'k'.repeat(129) });
    expect(hugeKey.status).toBe(400);
    expect(hugeKey.body.error).toBe('invalid_idempotency_key');
  });

  it('path parameters: any member id or board is 200, 400 or 404, never 5xx; too long → 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ minLength: 1, maxLength: 300 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })), fc.constantFrom('', '/balance', '/statement'), async (id, tail) => {
        const r = await send('GET', `/v1/members/${encodeURIComponent(id)}${tail}`);
        if (r.status === 200) return;
        refused(r, id);
        if (id.length > 128) expect(r.status).toBe(400);
      }),
      { numRuns: 150 },
    );
    for (const raw of ['%ZZ', '%', '%C0%AF', '..%2F..%2Fetc', '%00']) {
      const r = await send('GET', `/v1/members/${raw}/balance`);
      refused(r, raw);
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 100 }), async (board) => {
        const r = await send('GET', `/v1/leaderboards/${encodeURIComponent(board)}`);
        if (board === 'points' || board === 'spend') return;
        refused(r, board);
      }),
      { numRuns: 60 },
    );
    refused(await send('GET', `/v1/commands/${'c'.repeat(600)}`), 'long command id');
  });

  it('query strings: wrong types, negatives, fractions, repeats, unknown keys → 400; never 5xx', async () => {
    const routes = ['/v1/members/m-1/balance', '/v1/members/m-1/statement', '/v1/leaderboards/points', '/v1/leaderboards/points/members/m-1', '/v1/analytics/daily', '/v1/analytics/summary', '/v1/rewards', '/v1/projections', '/health'];
    const bad = fc.oneof(
      fc.constantFrom('limit=-1', 'limit=0', 'limit=1.5', 'limit=abc', 'limit=1e3', 'limit=100000', 'limit=1&limit=2', 'limit[]=1', 'limit[a]=1'),
      fc.constantFrom('before=-5', 'before=0.5', 'minSequence=-1', 'minSequence=x', 'minSequence=99999999999999999999'),
      fc.constantFrom('period=2025-13', 'period=2025-1', 'period=ALL', 'period=', 'from=2025-02-30', 'to=tomorrow', 'from=2030-01-01&to=2020-01-01', 'from=1900-01-01&to=2025-01-01'),
      fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 20 })).map(([k, v]) => `zz${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
      fc.string({ maxLength: 2000 }).map((v) => `period=${encodeURIComponent(v)}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), bad, async (route, query) => {
        const r = await send('GET', `${route}?${query}`);
        refused(r, `${route}?${query}`);
      }),
      { numRuns: 250 },
    );
  });

  it('after all of it, nothing was written: no message on loyalty.commands nor loyalty.purchases', async () => {
    expect(await topicTotals()).toEqual(before);
    expect(Object.values(before).every((n) => n === 0)).toBe(true);
  });
});
