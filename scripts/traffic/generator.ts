// Realistic, seeded upstream traffic: members with skewed activity (a few very active,
// most occasional), plausible basket amounts, ~3 % refunds, some duplicates and some
// malformed messages. Pure: the same seed gives the same stream.

export interface TrafficOptions {
  seed: number;
  purchases: number;
  members: number;
  /** Share of purchases later refunded (partially or fully), per mille. Default 30 (3 %). */
  refundPerMille?: number;
  /** Share of messages sent twice, per mille. Default 10. */
  duplicatePerMille?: number;
  /** Share of malformed messages, per mille. Default 5. */
  malformedPerMille?: number;
  /** Business time of the first purchase; purchases spread forward from it. */
  start?: Date;
  /** Spread of occurredAt, in minutes. Default 60 × 24 × 60 (60 days). */
  spreadMinutes?: number;
  memberPrefix?: string;
}

export interface TrafficMessage {
  key: string;
  value: string;
  kind: 'purchase' | 'refund' | 'duplicate' | 'malformed';
}

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CATEGORIES = ['grocery', 'coffee', 'beauty', 'apparel', 'electronics', 'home'];
const CHANNELS = ['store', 'online', 'app', 'partner'];

/**
 * Members with skewed activity: weights follow a Zipf law (s = 0.8, so a minority makes
 * most purchases), but no member buys more than a person plausibly does (about two
 * purchases a day over the traffic's span, or four times the average if that is higher).
 * A draw that lands on a member at the cap is drawn again.
 */
function memberPicker(rand: () => number, members: number, purchases: number, spreadDays: number): () => number {
  const cumulative = new Float64Array(members);
  let total = 0;
  for (let i = 0; i < members; i++) cumulative[i] = total += 1 / Math.pow(i + 1, 0.8);
  const cap = Math.max(Math.ceil(2 * spreadDays), Math.ceil((4 * purchases) / members));
  const counts = new Uint32Array(members);
  const pick = (): number => {
    const u = rand() * total;
    let lo = 0;
    let hi = members - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return () => {
    for (let attempt = 0; attempt < 16; attempt++) {
      const m = pick();
      if (counts[m] < cap) {
        counts[m]++;
        return m;
      }
    }
    const m = Math.floor(rand() * members);
    counts[m]++;
    return m;
  };
}

/** Basket amount in cents: log-normal-ish around $25, from $1 to a few hundred. */
function basketCents(rand: () => number): number {
  const g = (rand() + rand() + rand() + rand() - 2) * 1.2; // ~N(0, 0.7)
  return Math.max(100, Math.round(2500 * Math.exp(g)));
}

export function* generateTraffic(o: TrafficOptions): Generator<TrafficMessage> {
  const rand = prng(o.seed);
  const refundPm = o.refundPerMille ?? 30;
  const dupPm = o.duplicatePerMille ?? 10;
  const badPm = o.malformedPerMille ?? 5;
  const start = (o.start ?? new Date(Date.now() - 60 * 24 * 3600 * 1000)).getTime();
  const spreadMs = (o.spreadMinutes ?? 60 * 24 * 60) * 60_000;
  const prefix = o.memberPrefix ?? 'member-';
  const pendingRefunds: Array<{ at: number; msg: TrafficMessage }> = [];
  const nextMember = memberPicker(rand, o.members, o.purchases, spreadMs / 86_400_000);

  for (let i = 0; i < o.purchases; i++) {
    const memberId = `${prefix}${nextMember().toString().padStart(6, '0')}`;
    const occurredAt = new Date(start + Math.floor((i / o.purchases) * spreadMs)).toISOString();
    const amount = basketCents(rand);
    const purchaseId = `${o.seed}-p${i}`;
    const category = CATEGORIES[Math.floor(rand() * CATEGORIES.length)];
    const purchase = {
      purchaseId,
      memberId,
      amount,
      currency: 'USD',
      occurredAt,
      channel: CHANNELS[Math.floor(rand() * CHANNELS.length)],
      storeId: `store-${Math.floor(rand() * 50)}`,
      items: [{ sku: `sku-${Math.floor(rand() * 500)}`, category, quantity: 1, unitPrice: amount }],
    };
    const msg: TrafficMessage = { key: memberId, value: JSON.stringify(purchase), kind: 'purchase' };
    yield msg;
    if (rand() * 1000 < dupPm) yield { ...msg, kind: 'duplicate' };
    if (rand() * 1000 < badPm) yield malformed(rand, memberId, i);
    if (rand() * 1000 < refundPm) {
      const full = rand() < 0.5;
      const refund = {
        kind: 'refund',
        refundId: `${purchaseId}-r`,
        purchaseId,
        memberId,
        amount: full ? amount : Math.max(1, Math.floor(amount * rand())),
        currency: 'USD',
        occurredAt,
      };
      // Refunds follow their purchase a few messages later, on the same key (so in order).
      pendingRefunds.push({ at: i + 1 + Math.floor(rand() * 20), msg: { key: memberId, value: JSON.stringify(refund), kind: 'refund' } });
    }
    while (pendingRefunds.length && pendingRefunds[0].at <= i) yield pendingRefunds.shift()!.msg;
  }
  for (const r of pendingRefunds) yield r.msg;
}

function malformed(rand: () => number, memberId: string, i: number): TrafficMessage {
  const variants = [
    '{"purchaseId": "broken',
    JSON.stringify({ purchaseId: `bad-${i}`, memberId, amount: -100, currency: 'USD', occurredAt: new Date().toISOString() }),
    JSON.stringify({ purchaseId: `bad-${i}`, memberId, amount: 12.5, currency: 'USD', occurredAt: new Date().toISOString() }),
    JSON.stringify({ purchaseId: `bad-${i}`, memberId, amount: 100, currency: 'EUR', occurredAt: new Date().toISOString() }),
    JSON.stringify({ memberId, amount: 100 }),
  ];
  return { key: memberId, value: variants[Math.floor(rand() * variants.length)], kind: 'malformed' };
}
