// Commands over HTTP: enrol, redeem (with Idempotency-Key), adjust, through the real
// broker: API → loyalty.commands → ledger → loyalty.command-results → API.
import { createStack, eventually, freePort, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack();
  await Promise.all([stack.start('ledger'), stack.start('projector'), stack.start('api')]);
});

afterAll(async () => {
  await stack?.teardown();
});

const headers = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json', ...extra });

async function post(path: string, body: unknown, extra: Record<string, string> = {}, apiUrl = stack.apiUrl) {
  const res = await fetch(`${apiUrl}${path}`, { method: 'POST', headers: headers(extra), body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('member commands over HTTP', () => {
  it('given an enrolled member with 2,050 points, when redeeming, then points are spent once per key and never below zero', async () => {
    const memberId = `cmd-${stack.id}`;
    const enrolled = await post('/v1/members', { memberId, name: 'Ada' });
    expect(enrolled.status).toBe(201);
    expect(enrolled.body.sequence).toBe(2); // MemberEnrolled + welcome PointsEarned

    const again = await post('/v1/members', { memberId });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('already_enrolled');

    const adjusted = await post(`/v1/members/${memberId}/adjustments`, { points: 2_000, reason: 'goodwill' }, { 'idempotency-key': 'adj-1' });
    expect(adjusted.status).toBe(201);
    expect(adjusted.body.available).toBe(2_050);

    const first = await post(`/v1/members/${memberId}/redemptions`, { rewardId: 'voucher-50' }, { 'idempotency-key': 'r-1' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ pointsSpent: 2_000, available: 50 });

    // The same key and body: the first answer, no second spend.
    const repeat = await post(`/v1/members/${memberId}/redemptions`, { rewardId: 'voucher-50' }, { 'idempotency-key': 'r-1' });
    expect(repeat.status).toBe(201);
    expect(repeat.body).toMatchObject({ redemptionId: first.body.redemptionId, pointsSpent: 2_000, available: 50 });

    // The same key with another body: a conflict.
    const conflict = await post(`/v1/members/${memberId}/redemptions`, { rewardId: 'coffee' }, { 'idempotency-key': 'r-1' });
    expect(conflict.status).toBe(409);

    const short = await post(`/v1/members/${memberId}/redemptions`, { rewardId: 'coffee' }, { 'idempotency-key': 'r-2' });
    expect(short.status).toBe(422);
    expect(short.body.error).toBe('insufficient_points');

    const balance = await eventually(
      async () => (await fetch(`${stack.apiUrl}/v1/members/${memberId}/balance?minSequence=${first.body.sequence}`, { headers: headers() })).json() as Promise<any>,
      (b) => b.available === 50,
    );
    expect(balance).toMatchObject({ available: 50, lifetimeRedeemed: 2_000, lifetimeAdjusted: 2_000, lifetimeEarned: 50 });
  });

  it('given a redemption refused for short points, when points are then earned, then the same key and body still get the same 422 (from another API instance too), another body 409', async () => {
    const memberId = `refused-${stack.id}`;
    expect((await post('/v1/members', { memberId })).status).toBe(201); // 50 welcome points
    const path = `/v1/members/${memberId}/redemptions`;
    const key = { 'idempotency-key': 'big-1' };

    const refused = await post(path, { rewardId: 'voucher-50' }, key);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: 'insufficient_points', message: 'redemption needs 2000 points, 50 available' });

    // 3,000 points earned by a purchase, visible in the read model
    const bought = await post('/v1/purchases', { purchaseId: `${memberId}-p1`, memberId, amount: 300_000, currency: 'USD', occurredAt: new Date().toISOString() });
    expect(bought.status).toBe(202);
    await eventually(
      async () => (await fetch(`${stack.apiUrl}/v1/members/${memberId}/balance`, { headers: headers() })).json() as Promise<any>,
      (b) => b.available === 3_050,
    );

    // the same key and body: the first answer, from this instance (it saw the outcome) ...
    const again = await post(path, { rewardId: 'voucher-50' }, key);
    expect(again.status).toBe(422);
    expect(again.body).toMatchObject({ error: 'insufficient_points', message: refused.body.message });

    // ... and from an API instance started since, which never saw it: the ledger remembers
    const port = await freePort();
    const other = await stack.start('api', { PORT: String(port) });
    try {
      const otherUrl = `http://127.0.0.1:${port}`;
      const fresh = await post(path, { rewardId: 'voucher-50' }, key, otherUrl);
      expect(fresh.status).toBe(422);
      expect(fresh.body).toMatchObject({ error: 'insufficient_points', message: refused.body.message });
      // the same key with another body: a conflict
      const conflict = await post(path, { rewardId: 'coffee' }, key, otherUrl);
      expect(conflict.status).toBe(409);
      expect(conflict.body.error).toBe('idempotency_conflict');
    } finally {
      await stack.stop(other);
    }

    // nothing was spent; the refusal is in the statement with no points moved
    const balance = (await (await fetch(`${stack.apiUrl}/v1/members/${memberId}/balance`, { headers: headers() })).json()) as any;
    expect(balance).toMatchObject({ available: 3_050, lifetimeRedeemed: 0 });
    const statement = await eventually(
      async () => (await fetch(`${stack.apiUrl}/v1/members/${memberId}/statement`, { headers: headers() })).json() as Promise<any>,
      (s) => Array.isArray(s.entries) && s.entries.some((e: any) => e.type === 'RedemptionRefused'),
    );
    expect(statement.entries.find((e: any) => e.type === 'RedemptionRefused')).toMatchObject({ pointsDelta: 0 });
    // a member nobody enrolled has no statement, as it has no balance
    const unknown = await fetch(`${stack.apiUrl}/v1/members/${memberId}-nobody/statement`, { headers: headers() });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found' });
  });

  it('given bad bodies, when posted, then 400 names the field and unknown fields are refused', async () => {
    const noKey = await post(`/v1/members/x/redemptions`, { rewardId: 'coffee' });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error).toBe('missing_idempotency_key');
    const fractional = await post(`/v1/members/x/adjustments`, { points: 1.5, reason: 'r' }, { 'idempotency-key': 'k' });
    expect(fractional.status).toBe(400);
    expect(fractional.body.message).toMatch(/points/);
    const unknownField = await post('/v1/members', { memberId: 'z', admin: true });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.message).toMatch(/admin/);
  });
});
