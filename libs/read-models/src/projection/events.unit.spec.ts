import type { EventEnvelope } from '@loyalty/domain';
import { foldPostgresBatch } from '../postgres/postgres.projection';
import { foldRedisBatch } from '../redis/redis.projection';
import { History } from '../testing/envelopes';
import { assertKnown, pointsDelta, UnknownEventError, utcDay, utcMonth } from './events';

describe('event meanings shared by both projections', () => {
  it('months and days are UTC, whatever the offset of occurredAt', () => {
    expect(utcMonth('2025-05-31T23:30:00-02:00')).toBe('2025-06');
    expect(utcDay('2025-01-01T00:30:00+01:00')).toBe('2024-12-31');
    expect(utcMonth('2025-05-31T23:30:00.000Z')).toBe('2025-05');
  });

  it('points deltas: earn +, redeem / expire / reverse -, adjust signed, others 0', () => {
    const h = new History();
    const at = '2025-01-01T00:00:00.000Z';
    const d = (e: EventEnvelope) => pointsDelta(e as never);
    expect(d(h.enrol('a', at))).toBe(0);
    expect(d(h.add('a', 'PointsEarned', { points: 7, cause: 'welcome', lotId: 'l', expiresAt: at, programVersion: 't' }, at))).toBe(7);
    expect(d(h.add('a', 'RewardRedeemed', { redemptionId: 'r', points: 3, lots: [] }, at))).toBe(-3);
    expect(d(h.add('a', 'PointsAdjusted', { points: -2, reason: 'x', actor: 'y', adjustmentId: 'z' }, at))).toBe(-2);
    expect(d(h.add('a', 'PointsExpired', { points: 1, lotId: 'l', asOf: at }, at))).toBe(-1);
    expect(d(h.add('a', 'RedemptionRefused', { idempotencyKey: 'k', requestHash: 'h', rewardId: 'coffee', points: 100, code: 'insufficient-points', message: 'm', available: 4, recordedAt: at }, at))).toBe(0);
  });

  it('a refused redemption is known to both projections, moves no points and is no redemption', () => {
    const h = new History();
    const at = '2025-01-01T00:00:00.000Z';
    h.enrol('a', at);
    const refused = h.add('a', 'RedemptionRefused', { idempotencyKey: 'k', requestHash: 'h', points: 500, reference: 'x', code: 'insufficient-points', message: 'm', available: 0, recordedAt: at }, at);
    expect(() => assertKnown(refused)).not.toThrow();
    const envs = h.events.map((e) => e.envelope);
    const sets = foldPostgresBatch(envs);
    expect(sets.ledger.map((r) => [r.t, r.p])).toEqual([['MemberEnrolled', 0], ['RedemptionRefused', 0]]);
    expect(sets.redemptions).toEqual([]);
    expect(sets.members.get('a')).toMatchObject({ available: 0, redeemed: 0, redemptions: 0, sequence: 2 });
    expect(foldRedisBatch(envs).members.get('a')).toMatchObject({ delta: 0, redeemed: 0, sequence: 2 });
  });

  it('refuses unknown types and newer versions instead of guessing', () => {
    const h = new History();
    const e = h.enrol('a', '2025-01-01T00:00:00.000Z');
    expect(() => assertKnown({ ...e, type: 'PointsHeld' } as never)).toThrow(UnknownEventError);
    expect(() => assertKnown({ ...e, version: 2 })).toThrow(UnknownEventError);
  });
});

describe('batch folds', () => {
  const h = new History();
  const at = '2025-03-31T23:00:00.000Z';
  h.enrol('a', at);
  const lot = h.purchase('a', 'p1', 10_000, at)!;
  h.add('a', 'RewardRedeemed', { redemptionId: 'r1', points: 60, lots: [{ lotId: lot, points: 60 }] }, '2025-04-01T10:00:00.000Z');
  h.add('a', 'PurchaseRefunded', { refundId: 'f1', purchaseId: 'p1', amount: 5_000 }, '2025-04-02T10:00:00.000Z');
  h.add('a', 'PointsReversed', { points: 40, purchaseId: 'p1', refundId: 'f1', programVersion: 't', lots: [{ lotId: lot, points: 40 }] }, '2025-04-02T10:00:00.000Z');
  const envs = h.events.map((e) => e.envelope);

  it('Postgres: a lot opened and spent in the same batch is inserted with what is left; purchase facts are folded in', () => {
    const sets = foldPostgresBatch(envs);
    expect([...sets.newLots.values()]).toEqual([expect.objectContaining({ lotId: lot, points: 100, remaining: 0 })]);
    expect(sets.lotTakes.size).toBe(0);
    expect([...sets.newPurchases.values()]).toEqual([expect.objectContaining({ amount: 10_000, refunded: 5_000, pointsEarned: 100, pointsReversed: 40 })]);
    expect(sets.members.get('a')).toMatchObject({ available: 0, earned: 100, redeemed: 60, reversed: 40, spend: 5_000, purchases: 1, sequence: 6 });
    expect(sets.ledger.map((r) => r.p)).toEqual([0, 0, 100, -60, 0, -40]);
    expect([...sets.daily.keys()].sort()).toEqual(['2025-03-31', '2025-04-01', '2025-04-02']);
  });

  it('Redis: per member deltas and per board, per month increments', () => {
    const { members, boards } = foldRedisBatch(envs);
    expect(members.get('a')).toEqual({ delta: 0, earned: 100, redeemed: 60, expired: 0, reversed: 40, adjusted: 0, tier: 'Member', sequence: 6 });
    expect(Object.fromEntries([...boards].map(([k, v]) => [k, Object.fromEntries(v)]))).toEqual({
      'spend:all': { a: 5_000 },
      'spend:2025-03': { a: 10_000 },
      'spend:2025-04': { a: -5_000 },
      'points:all': { a: 60 },
      'points:2025-03': { a: 100 },
      'points:2025-04': { a: -40 },
    });
  });
});
