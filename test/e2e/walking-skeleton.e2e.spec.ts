// Through every real part: HTTP → loyalty.purchases → ingest → loyalty.commands → ledger
// → loyalty.events → projectors → Postgres and Redis → GET …/balance.
import { createStack, eventually, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack();
  await Promise.all([stack.start('ledger'), stack.start('projector'), stack.start('api')]);
});

afterAll(async () => {
  await stack?.teardown();
});

const now = () => new Date().toISOString();
const auth = () => ({ authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' });

async function postPurchase(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${stack.apiUrl}/v1/purchases`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
}

async function balance(memberId: string, minSequence?: number) {
  const q = minSequence ? `?minSequence=${minSequence}` : '';
  const res = await fetch(`${stack.apiUrl}/v1/members/${encodeURIComponent(memberId)}/balance${q}`, { headers: auth() });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('walking skeleton', () => {
  it('given a new member, when two purchases and a repeat are posted, then both stores show welcome + points once', async () => {
    const memberId = `m-${stack.id}`;
    const first = await postPurchase({ purchaseId: `${memberId}-p1`, memberId, amount: 12_345, currency: 'USD', occurredAt: now() });
    expect(first.status).toBe(202);
    await postPurchase({ purchaseId: `${memberId}-p2`, memberId, amount: 5_099, currency: 'USD', occurredAt: now(), channel: 'online' });
    // The same purchase again: a no-op, never double points.
    await postPurchase({ purchaseId: `${memberId}-p1`, memberId, amount: 12_345, currency: 'USD', occurredAt: now() });

    // 50 welcome + floor(12345/100) + floor(5099/100) = 50 + 123 + 50
    const expected = 223;
    const viaApi = await eventually(() => balance(memberId), (b) => b.status === 200 && b.body.available === expected);
    expect(viaApi.body).toMatchObject({ memberId, available: expected, lifetimeEarned: expected, tier: 'Member' });

    const pg = await eventually(
      () => stack.pool.query(`select available, purchase_count, spend from ${stack.schema}.member_balances where member_id = $1`, [memberId]),
      (r) => r.rows[0]?.available === String(expected) || r.rows[0]?.available === expected,
    );
    expect(Number(pg.rows[0].available)).toBe(expected);
    expect(Number(pg.rows[0].purchase_count)).toBe(2);
    expect(Number(pg.rows[0].spend)).toBe(17_444);

    const redisAvailable = await stack.redis.hget(`${stack.redisPrefix}bal:${memberId}`, 'available');
    expect(Number(redisAvailable)).toBe(expected);
  });

  it('given a malformed body, when posted, then 400 names the field and nothing is published', async () => {
    const res = await postPurchase({ purchaseId: 'x', memberId: 'y', amount: 10.5, currency: 'USD', occurredAt: now() });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.message).toMatch(/amount/);
  });

  it('given no API key, when a balance is asked, then 401', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/members/anyone/balance`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
  });

  it('given garbage on the inbound topic, when ingested, then it reaches the dead-letter topic with a reason and the stream goes on', async () => {
    const producer = stack.kafka.producer();
    await producer.connect();
    const memberId = `dlq-${stack.id}`;
    const earlyRefund = JSON.stringify({ kind: 'refund', refundId: 'r1', purchaseId: 'never-made', memberId, amount: 100, currency: 'USD', occurredAt: now() });
    await producer.send({
      topic: stack.topics.purchases,
      messages: [
        { key: memberId, value: 'not json at all' },
        { key: memberId, value: JSON.stringify({ purchaseId: 'neg', memberId, amount: -5, currency: 'USD', occurredAt: now() }) },
        { key: memberId, value: JSON.stringify({ purchaseId: 'str', memberId, amount: '100', currency: 'USD', occurredAt: now() }) },
        { key: memberId, value: JSON.stringify({ purchaseId: 'big', memberId, amount: 100, currency: 'USD', occurredAt: now(), storeId: 'x'.repeat(100_000) }) },
        { key: null, value: JSON.stringify(['an', 'array']) },
        { key: memberId, value: earlyRefund },
        { key: memberId, value: JSON.stringify({ purchaseId: `${memberId}-ok`, memberId, amount: 1_000, currency: 'USD', occurredAt: now() }) },
      ],
    });
    await producer.disconnect();

    const reasons: string[] = [];
    const values = new Map<string, string>();
    const consumer = stack.kafka.consumer({ groupId: `${stack.id}-dlq-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: stack.topics.purchasesDlq, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        reasons.push(String(message.headers?.reason));
        values.set(String(message.headers?.reason), message.value!.toString());
      },
    });
    await eventually(async () => reasons.length, (n) => n >= 6);
    await consumer.disconnect();
    expect(reasons.sort()).toEqual(['invalid-field', 'invalid-field', 'not-json', 'not-object', 'oversized', 'unknown-purchase']);
    // Rejected by the ledger, not the ingest: still the upstream bytes, unchanged.
    expect(values.get('unknown-purchase')).toBe(earlyRefund);

    const ok = await eventually(() => balance(memberId), (b) => b.status === 200 && b.body.available === 60);
    expect(ok.body.available).toBe(60); // 50 welcome + 10
  });
});
