// A seeded generator of consistent member histories (enrolments, purchases,
// refunds with pro-rata reversals, redemptions and expiries taking the oldest
// lots, adjustments, tier changes), for agreement and throughput tests.
import { History } from './envelopes';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Lot { lotId: string; remaining: number }
interface MemberSim { lots: Lot[]; balance: number; purchases: { id: string; amount: number; refunded: number; earned: number; reversed: number }[]; n: number }

export function generateHistory(opts: { members: number; events: number; seed?: number; partition?: number; memberPrefix?: string; start?: string }): History {
  const h = new History(opts.partition ?? 0);
  const rand = rng(opts.seed ?? 1);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const sims = new Map<string, MemberSim>();
  const ids: string[] = [];
  let t = Date.parse(opts.start ?? '2025-01-01T00:00:00.000Z');
  const at = () => new Date((t += int(1, 600) * 1000)).toISOString();

  const take = (m: MemberSim, points: number) => {
    const lots: { lotId: string; points: number }[] = [];
    let left = points;
    for (const lot of m.lots) {
      if (left === 0) break;
      if (lot.remaining === 0) continue;
      const p = Math.min(lot.remaining, left);
      lot.remaining -= p;
      left -= p;
      lots.push({ lotId: lot.lotId, points: p });
    }
    m.balance -= points;
    return lots;
  };
  const earn = (id: string, m: MemberSim, points: number, when: string, cause: 'purchase' | 'welcome', purchaseId?: string) => {
    const repaid = m.balance < 0 ? Math.min(points, -m.balance) : 0;
    const lotId = h.nextLotId(id);
    h.earn(id, points, when, { cause, purchaseId, repaid: repaid || undefined, lotId });
    m.balance += points;
    if (points - repaid > 0) m.lots.push({ lotId, remaining: points - repaid });
  };

  while (h.events.length < opts.events) {
    const newMember = ids.length < opts.members && (ids.length === 0 || rand() < 0.25);
    if (newMember) {
      const id = `${opts.memberPrefix ?? 'm'}${String(ids.length).padStart(6, '0')}`;
      ids.push(id);
      const m: MemberSim = { lots: [], balance: 0, purchases: [], n: 0 };
      sims.set(id, m);
      const when = at();
      h.enrol(id, when, { name: `Member ${id}`, email: `${id}@example.test` });
      earn(id, m, 50, when, 'welcome');
      continue;
    }
    const id = ids[int(0, ids.length - 1)];
    const m = sims.get(id)!;
    const when = at();
    const roll = rand();
    if (roll < 0.55) {
      const amount = int(100, 50_000);
      const purchaseId = `${id}-p${++m.n}`;
      h.add(id, 'PurchaseMade', { purchaseId, amount, currency: 'USD', occurredAt: when, channel: 'online', recordedAt: when }, when);
      const points = Math.floor(amount / 100);
      m.purchases.push({ id: purchaseId, amount, refunded: 0, earned: points, reversed: 0 });
      if (points > 0) earn(id, m, points, when, 'purchase', purchaseId);
    } else if (roll < 0.65) {
      const p = m.purchases.find((x) => x.refunded < x.amount);
      if (!p) continue;
      const amount = int(1, p.amount - p.refunded);
      p.refunded += amount;
      h.add(id, 'PurchaseRefunded', { refundId: `${p.id}-r${p.refunded}`, purchaseId: p.id, amount }, when);
      const total = Math.floor((p.earned * p.refunded) / p.amount);
      const points = total - p.reversed;
      p.reversed = total;
      if (points > 0) h.add(id, 'PointsReversed', { points, purchaseId: p.id, refundId: `${p.id}-r${p.refunded}`, programVersion: 'test', lots: take(m, points) }, when);
    } else if (roll < 0.78) {
      if (m.balance < 100) continue;
      const points = m.balance >= 500 && rand() < 0.3 ? 500 : 100;
      h.add(id, 'RewardRedeemed', { redemptionId: `${id}-x${++m.n}`, rewardId: points === 500 ? 'voucher-10' : 'coffee', points, lots: take(m, points) }, when);
    } else if (roll < 0.85) {
      const lot = m.lots.find((l) => l.remaining > 0);
      if (!lot) continue;
      const points = lot.remaining;
      lot.remaining = 0;
      m.balance -= points;
      h.add(id, 'PointsExpired', { points, lotId: lot.lotId, asOf: when }, when);
    } else if (roll < 0.93) {
      const positive = m.balance >= 0 && rand() < 0.6;
      const points = positive ? int(1, 300) : -int(1, 300);
      if (positive) {
        const lotId = h.nextLotId(id);
        m.lots.push({ lotId, remaining: points });
        m.balance += points;
        h.add(id, 'PointsAdjusted', { points, reason: 'goodwill', actor: 'ops', adjustmentId: `${id}-a${++m.n}`, lotId, expiresAt: when }, when);
      } else {
        h.add(id, 'PointsAdjusted', { points, reason: 'correction', actor: 'ops', adjustmentId: `${id}-a${++m.n}`, lots: take(m, -points) }, when);
      }
    } else {
      const tiers = ['Member', 'Silver', 'Gold', 'Platinum'];
      h.add(id, 'TierChanged', { from: 'Member', to: tiers[int(0, 3)], reason: rand() < 0.5 ? 'upgrade' : 'review' }, when);
    }
  }
  return h;
}
