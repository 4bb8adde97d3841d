import { DEFAULT_PROGRAMME, MemberEvent, MemberState, available, decide, evolve, fromEnvelope, given, initialState, loadProgramme, lotsBalance, toEnvelopes } from './index';
import defaultJson from '../../../programmes/default.json';
import { M, T0, adjust, creditReferral, day, enrol, expire, purchase, redeem, refund, review } from '../test/fixtures';
import type { MemberCommand } from './commands';

/** Runs commands from the initial state; returns all events (recorded refusals included) and the final state. */
function run(commands: readonly MemberCommand[], programme = DEFAULT_PROGRAMME): { events: MemberEvent[]; state: MemberState } {
  let state = initialState(M);
  const events: MemberEvent[] = [];
  for (const c of commands) {
    const d = decide(c, state, programme);
    if (!d.ok) throw new Error(`${c.type} rejected: ${d.rejection.code} ${d.rejection.message}`);
    for (const e of d.events) {
      state = evolve(state, e);
      events.push(e);
    }
  }
  return { events, state };
}

const V = DEFAULT_PROGRAMME.version;
const EXP = (iso: string) => new Date(Date.UTC(+iso.slice(0, 4) + 1, +iso.slice(5, 7) - 1, +iso.slice(8, 10), +iso.slice(11, 13), +iso.slice(14, 16), +iso.slice(17, 19))).toISOString();

describe('enrolment', () => {
  it('enrols with the welcome bonus as a lot expiring 12 months later', () => {
    given([]).when(enrol({ birthday: '1990-05-17' })).then([
      { type: 'MemberEnrolled', data: { source: 'api', tier: 'Member', birthday: '1990-05-17' } },
      { type: 'PointsEarned', data: { points: 50, cause: 'welcome', lotId: 'L2', expiresAt: EXP(T0), programVersion: V } },
    ]);
  });
  it('refuses a second enrolment', () => {
    const { events } = run([enrol()]);
    given(events).when(enrol()).thenRejects('already-enrolled');
  });
  it('refuses a self-referral', () => {
    given([]).when(enrol({ referredBy: M })).thenRejects('invalid-referral');
  });
});

describe('purchases', () => {
  it('auto-enrols an unknown member, then earns 1 point per 100 minor units, floored', () => {
    given([]).when(purchase('p1', 12_345)).thenMatches([
      { type: 'MemberEnrolled', data: { source: 'purchase', tier: 'Member' } },
      { type: 'PointsEarned', data: { points: 50, cause: 'welcome' } },
      { type: 'PurchaseMade', data: { purchaseId: 'p1', amount: 12_345, currency: 'USD', occurredAt: T0, recordedAt: T0 } },
      { type: 'PointsEarned', data: { points: 123, cause: 'purchase', purchaseId: 'p1', lotId: 'L4', programVersion: V } },
    ]);
  });
  it('earns nothing (and opens no lot) under 100 minor units', () => {
    const { events } = run([enrol()]);
    given(events).when(purchase('p1', 99)).thenMatches([{ type: 'PurchaseMade' }]);
  });
  it('treats a repeated purchaseId as a duplicate: no events, the first outcome', () => {
    const { events } = run([enrol(), purchase('p1', 1000)]);
    const o = given(events).when(purchase('p1', 1000, T0, day(1)));
    o.thenNothing();
    expect(o.decision).toEqual({ ok: true, events: [], duplicateOf: { kind: 'purchase', purchaseId: 'p1', sequence: 3 } });
  });
  it('rejects a wrong currency', () => {
    given([]).when({ ...purchase('p1', 1000), data: { ...purchase('p1', 1000).data, currency: 'EUR' } }).thenRejects('wrong-currency');
  });
  it('rejects a purchase more than 90 days older than its recording time, accepts one of exactly 90 days', () => {
    given([]).when(purchase('p1', 1000, T0, day(90.0001))).thenRejects('purchase-too-old');
    given([]).when(purchase('p1', 1000, T0, day(90))).thenMatches([{ type: 'MemberEnrolled' }, { type: 'PointsEarned' }, { type: 'PurchaseMade' }, { type: 'PointsEarned' }]);
  });
  it('rejects a purchase for an unknown member when autoEnroll is off', () => {
    given([], { programme: { ...DEFAULT_PROGRAMME, autoEnroll: false } }).when(purchase('p1', 1000)).thenRejects('not-enrolled');
  });
});

describe('tiers', () => {
  it('upgrades at once with the crossing purchase, which earns at the old rate', () => {
    const { events } = run([enrol(), purchase('p1', 45_000)]); // 450 qualifying
    given(events).when(purchase('p2', 10_000, day(1))).thenMatches([
      { type: 'PurchaseMade' },
      { type: 'PointsEarned', data: { points: 100, cause: 'purchase' } }, // Member rate, not Silver's 125
      { type: 'TierChanged', data: { from: 'Member', to: 'Silver', reason: 'upgrade' } },
    ]);
  });
  it('goes straight to the highest tier reached (one TierChanged)', () => {
    given(run([enrol()]).events).when(purchase('p1', 600_000)).thenMatches([
      { type: 'PurchaseMade' },
      { type: 'PointsEarned', data: { points: 6000 } },
      { type: 'TierChanged', data: { from: 'Member', to: 'Platinum', reason: 'upgrade' } },
    ]);
  });
  it('applies the tier multiplier, rounded down', () => {
    const { events } = run([enrol(), purchase('p1', 50_000)]); // Silver
    given(events).when(purchase('p2', 1_099, day(1))).thenMatches([{ type: 'PurchaseMade' }, { type: 'PointsEarned', data: { points: 12 } }]); // 10 × 1.25
  });
  it('does not count welcome, birthday or referral points as qualifying', () => {
    const { events } = run([enrol(), adjust('k', 1000)]);
    given(events).when(purchase('p1', 100)).thenMatches([{ type: 'PurchaseMade' }, { type: 'PointsEarned', data: { points: 1 } }]);
  });
  it('downgrades at review one level only, when qualifying points fell below the threshold', () => {
    const { events } = run([enrol(), purchase('p1', 500_000, T0)]); // Platinum
    const asOf = '2026-04-01T00:00:00.000Z'; // p1 is out of the window
    const after = given(events).when(review(asOf)).then([{ type: 'TierChanged', data: { from: 'Platinum', to: 'Gold', reason: 'review', asOf } }]);
    expect(after.tier).toBe('Gold');
    // the same review again changes nothing; the next month's goes one more level down
    given([...events, { type: 'TierChanged', data: { from: 'Platinum', to: 'Gold', reason: 'review', asOf } }]).when(review(asOf)).thenNothing();
  });
  it('leaves a tier reached after the as-of date to a later review, even when the review runs late', () => {
    // Given a member upgraded to Silver on 2025-03-10 (below Silver's threshold in any window ending before it)
    const { events } = run([enrol(), purchase('p1', 50_000, T0)]);
    // When the review as of 2025-03-01 is decided only afterwards (a scheduler that missed the 1st)
    // Then the new tier stays: the review judges the tier held on its as-of date
    given(events).when(review('2025-03-01T00:00:00.000Z', day(1))).thenNothing();
    // and the next month's review sees the purchase in its window, and keeps Silver too
    given(events).when(review('2025-04-01T00:00:00.000Z')).thenNothing();
  });
  it('keeps the tier at review while qualifying points stay above the threshold', () => {
    const { events } = run([enrol(), purchase('p1', 60_000, T0)]); // Silver, 600
    given(events).when(review('2025-04-01T00:00:00.000Z')).thenNothing();
  });
  describe('downgrade grace period (review.downgradeGraceMonths)', () => {
    const GRACE = loadProgramme({ ...defaultJson, review: { downgradeLevels: 1, downgradeGraceMonths: 3 } });
    // Platinum by a purchase at T0 (2025-03-10), then most of it refunded: 1,000 qualifying points (a Silver's)
    const platinumThenRefunded = () => [enrol(), purchase('p1', 600_000, T0), refund('r1', 'p1', 500_000, day(5))];

    it('the default programme has none: the first review after the drop downgrades', () => {
      expect(DEFAULT_PROGRAMME.review.downgradeGraceMonths).toBe(0);
      const { events } = run(platinumThenRefunded());
      given(events).when(review('2025-04-01T00:00:00.000Z')).thenMatches([{ type: 'TierChanged', data: { from: 'Platinum', to: 'Gold', reason: 'review' } }]);
    });
    it('the upgrade records when the tier took effect: the crossing purchase occurredAt', () => {
      const { events, state } = run(platinumThenRefunded(), GRACE);
      expect(events.find((e) => e.type === 'TierChanged')).toEqual({ type: 'TierChanged', data: { from: 'Member', to: 'Platinum', reason: 'upgrade', effectiveAt: T0 } });
      expect(state.rare.tierSince).toBe(Date.parse(T0) / 1000);
    });
    it('no downgrade within N months of the upgrade; at N months, one level', () => {
      const { events } = run(platinumThenRefunded(), GRACE);
      given(events, { programme: GRACE }).when(review('2025-04-01T00:00:00.000Z')).thenNothing();
      given(events, { programme: GRACE }).when(review('2025-06-01T00:00:00.000Z')).thenNothing(); // 2025-06-10 ends the grace
      given(events, { programme: GRACE }).when(review('2025-07-01T00:00:00.000Z')).then([
        { type: 'TierChanged', data: { from: 'Platinum', to: 'Gold', reason: 'review', asOf: '2025-07-01T00:00:00.000Z' } },
      ]);
    });
    it('a review downgrade starts a new grace period: the next level goes N months later, not the next month', () => {
      const { events, state } = run([...platinumThenRefunded(), review('2025-07-01T00:00:00.000Z')], GRACE);
      expect(state.tier).toBe('Gold');
      expect(state.rare.tierSince).toBe(Date.parse('2025-07-01T00:00:00Z') / 1000);
      given(events, { programme: GRACE }).when(review('2025-08-01T00:00:00.000Z')).thenNothing();
      given(events, { programme: GRACE }).when(review('2025-09-01T00:00:00.000Z')).thenNothing();
      given(events, { programme: GRACE }).when(review('2025-10-01T00:00:00.000Z')).thenMatches([{ type: 'TierChanged', data: { from: 'Gold', to: 'Silver', reason: 'review' } }]);
      // without a grace period the same history goes down the next month
      given(events).when(review('2025-08-01T00:00:00.000Z')).thenMatches([{ type: 'TierChanged', data: { from: 'Gold', to: 'Silver' } }]);
    });
    it('an upgrade during the grace period starts it again', () => {
      const { events, state } = run([...platinumThenRefunded(), review('2025-07-01T00:00:00.000Z'), purchase('p2', 300_000, day(120), day(120))], GRACE);
      expect(events.filter((e) => e.type === 'TierChanged').map((e) => e.data)).toEqual([
        { from: 'Member', to: 'Platinum', reason: 'upgrade', effectiveAt: T0 },
        { from: 'Platinum', to: 'Gold', reason: 'review', asOf: '2025-07-01T00:00:00.000Z' },
        { from: 'Gold', to: 'Platinum', reason: 'upgrade', effectiveAt: day(120) },
      ]);
      expect(state.rare.tierSince).toBe(Date.parse(day(120)) / 1000);
    });
    it('an upgrade written before effectiveAt existed takes the envelope occurredAt (the purchase time) when read', () => {
      const [env] = toEnvelopes(M, 4, [{ type: 'TierChanged', data: { from: 'Member', to: 'Gold', reason: 'upgrade' } }], { commandId: 'c', correlationId: 'c', recordedAt: day(3), occurredAt: day(2) });
      const read = fromEnvelope(JSON.parse(JSON.stringify(env)));
      expect(read).toEqual({ type: 'TierChanged', data: { from: 'Member', to: 'Gold', reason: 'upgrade', effectiveAt: day(2) } });
      expect(evolve(initialState(M), read).rare.tierSince).toBe(Date.parse(day(2)) / 1000);
      // a bare old event, not read through an envelope: not known, no grace period
      expect(evolve(initialState(M), { type: 'TierChanged', data: { from: 'Member', to: 'Gold', reason: 'upgrade' } }).rare.tierSince).toBe(0);
    });
  });
  it('counts reversals against qualifying points', () => {
    const { events } = run([enrol(), purchase('p1', 60_000, T0), refund('r1', 'p1', 20_000, day(1))]); // 600 - 200 = 400
    given(events).when(review('2025-04-01T00:00:00.000Z')).thenMatches([{ type: 'TierChanged', data: { from: 'Silver', to: 'Member' } }]);
  });
});

describe('refunds', () => {
  it('reverses pro rata, cumulatively: a partial then a full refund reverses exactly what was earned', () => {
    const { events } = run([enrol(), purchase('p1', 10_000)]); // 100 points
    const s1 = given(events).when(refund('r1', 'p1', 3_333)).thenMatches([
      { type: 'PurchaseRefunded', data: { refundId: 'r1', purchaseId: 'p1', amount: 3_333 } },
      { type: 'PointsReversed', data: { points: 33, purchaseId: 'p1', refundId: 'r1', programVersion: V } },
    ]);
    const { events: more } = run([enrol(), purchase('p1', 10_000), refund('r1', 'p1', 3_333)]);
    given(more).when(refund('r2', 'p1', 6_667)).thenMatches([
      { type: 'PurchaseRefunded', data: { amount: 6_667 } },
      { type: 'PointsReversed', data: { points: 67 } }, // floor(100 × 10000 / 10000) − 33
    ]);
    expect(available(s1)).toBe(50 + 100 - 33);
  });
  it('reverses what the purchase actually earned, at its tier and programme version, never recomputed', () => {
    const { events } = run([enrol(), purchase('p1', 50_000), purchase('p2', 10_000, day(1))]); // p2 earned 125 at Silver
    const earned: MemberEvent[] = events.map((e) =>
      e.type === 'PointsEarned' && e.data.purchaseId === 'p2' ? { ...e, data: { ...e.data, programVersion: 'old-rules' } } : e,
    );
    const cheaper = { ...DEFAULT_PROGRAMME, version: 'new-rules', earn: { points: 1, perMinorUnits: 1000 } };
    given(earned, { programme: cheaper }).when(refund('r1', 'p2', 10_000, day(2))).thenMatches([
      { type: 'PurchaseRefunded' },
      { type: 'PointsReversed', data: { points: 125, programVersion: 'old-rules' } },
    ]);
  });
  it('rejects an unknown purchase, a refund above what is left, a repeated refundId is a duplicate', () => {
    const { events } = run([enrol(), purchase('p1', 10_000), refund('r1', 'p1', 4_000)]);
    given(events).when(refund('r2', 'nope', 100)).thenRejects('unknown-purchase');
    given(events).when(refund('r2', 'p1', 6_001)).thenRejects('refund-exceeds-remaining');
    const d = given(events).when(refund('r1', 'p1', 4_000));
    d.thenNothing();
    expect(d.decision).toMatchObject({ duplicateOf: { kind: 'refund', refundId: 'r1', purchaseId: 'p1' } });
  });
  it('can take the balance below zero; later earnings repay the debt first', () => {
    const { events, state } = run([enrol(), purchase('p1', 20_000), redeem('k1', { points: 250 }), refund('r1', 'p1', 20_000)]);
    expect(available(state)).toBe(-200);
    expect(state.rare.debt).toBe(200);
    const after = given(events).when(purchase('p2', 30_000, day(1))).thenMatches([
      { type: 'PurchaseMade' },
      { type: 'PointsEarned', data: { points: 300, repaid: 200 } },
    ]);
    expect(available(after)).toBe(100);
    expect(after.lots.map((l) => l.remaining)).toEqual([100]);
    expect(lotsBalance(after)).toBe(available(after));
  });
});

describe('redemptions', () => {
  it('redeems a reward from the oldest lots first, across several lots', () => {
    const { events } = run([enrol(), purchase('p1', 4_000, day(1), day(1)), purchase('p2', 9_000, day(2), day(2))]);
    given(events).when(redeem('k1', { rewardId: 'coffee' }, day(3))).thenMatches([
      { type: 'RewardRedeemed', data: { rewardId: 'coffee', points: 100, lots: [{ lotId: 'L2', points: 50 }, { lotId: 'L4', points: 40 }, { lotId: 'L6', points: 10 }] } },
    ]);
  });
  it('never goes below zero: the refusal is recorded (no points move)', () => {
    const after = given(run([enrol()]).events)
      .when(redeem('k1', { rewardId: 'free-shipping' }))
      .thenRefuses('insufficient-points', [
        {
          type: 'RedemptionRefused',
          data: { idempotencyKey: 'k1', rewardId: 'free-shipping', points: 150, code: 'insufficient-points', message: 'redemption needs 150 points, 50 available', available: 50, recordedAt: T0 },
        },
      ]);
    expect(available(after)).toBe(50);
    expect(after.lots).toEqual(run([enrol()]).state.lots);
  });
  it('rejects an unknown reward, and records it', () => {
    given(run([enrol()]).events)
      .when(redeem('k1', { rewardId: 'yacht' }))
      .thenRefuses('unknown-reward', [{ type: 'RedemptionRefused', data: { rewardId: 'yacht', points: undefined, code: 'unknown-reward', available: 50 } }]);
  });
  it('a refused key keeps its answer: points earned since change nothing, another request under it is a conflict', () => {
    const { events } = run([enrol(), redeem('k1', { points: 120, reference: 'tote' }, day(1)), purchase('p1', 20_000, day(2), day(2))]);
    expect(events.map((e) => e.type)).toEqual(['MemberEnrolled', 'PointsEarned', 'RedemptionRefused', 'PurchaseMade', 'PointsEarned']);
    // the same key and request, with the points now there: the first answer again, no event
    const again = given(events).when(redeem('k1', { points: 120, reference: 'tote' }, day(3)));
    again.thenRejects('insufficient-points');
    expect(again.decision).toEqual({ ok: false, rejection: { code: 'insufficient-points', message: 'redemption needs 120 points, 50 available' } });
    // the same key with another request
    given(events).when(redeem('k1', { points: 100, reference: 'tote' }, day(3))).thenRejects('idempotency-conflict');
    given(events).when(redeem('k1', { rewardId: 'coffee' }, day(3))).thenRejects('idempotency-conflict');
    // another key is decided on its own
    given(events).when(redeem('k2', { points: 120, reference: 'tote' }, day(3))).thenMatches([{ type: 'RewardRedeemed', data: { points: 120 } }]);
    // an adjustment under the refused key is a conflict too
    given(events).when(adjust('k1', 10, day(3))).thenRejects('idempotency-conflict');
  });
  it('a refusal is remembered for the de-duplication window only, like any idempotency record', () => {
    const { events } = run([enrol(), redeem('k1', { points: 120, reference: 'tote' }, day(1)), purchase('p1', 20_000, day(2), day(2))]);
    given(events).when(redeem('k1', { points: 120, reference: 'tote' }, day(90))).thenRejects('insufficient-points');
    given(events).when(redeem('k1', { points: 120, reference: 'tote' }, day(92))).thenMatches([{ type: 'RewardRedeemed', data: { points: 120 } }]);
  });
  it('does not record what the request alone decides, nor a member who is not enrolled', () => {
    given(run([enrol()]).events).when(redeem('k1', { points: 0, reference: 'x' })).thenRejects('invalid-command');
    given([]).when(redeem('k1', { rewardId: 'coffee' })).thenRejects('not-enrolled');
  });
  it('a refusal leaves lots past their expiry alone (only a redemption expires them first)', () => {
    const { events } = run([enrol(), purchase('p1', 20_000, day(300), day(300))]);
    given(events).when(redeem('k1', { points: 500, reference: 'x' }, day(370))).thenRefuses('insufficient-points', [
      { type: 'RedemptionRefused', data: { points: 500, available: 200, message: 'redemption needs 500 points, 200 available' } },
    ]);
  });
  it('returns the first outcome for a repeated key, and a conflict for the same key with another request', () => {
    const { events, state } = run([enrol(), purchase('p1', 20_000), redeem('k1', { rewardId: 'coffee' })]);
    const d = given(events).when(redeem('k1', { rewardId: 'coffee' }, day(1)));
    d.thenNothing();
    expect(d.decision).toMatchObject({ duplicateOf: { kind: 'redemption', pointsSpent: 100, available: 150, sequence: state.sequence } });
    given(events).when(redeem('k1', { rewardId: 'free-shipping' })).thenRejects('idempotency-conflict');
  });
  it('does not spend lots past their expiry: they expire first', () => {
    const { events } = run([enrol(), purchase('p1', 20_000, day(300), day(300))]);
    given(events).when(redeem('k1', { points: 200, reference: 'x' }, day(370))).thenMatches([
      { type: 'PointsExpired', data: { points: 50, lotId: 'L2' } },
      { type: 'RewardRedeemed', data: { points: 200, lots: [{ lotId: 'L4', points: 200 }] } },
    ]);
  });
});

describe('expiry', () => {
  it('expires lots 12 months after earning, including the rest of a lot already partly spent', () => {
    const { events } = run([enrol(), purchase('p1', 20_000, day(10), day(10)), redeem('k1', { points: 100, reference: 'x' }, day(20))]);
    // lot L2 (welcome 50) fully spent; lot L4 (200) has 150 left
    given(events).when(expire(day(365))).thenNothing();
    given(events).when(expire(day(375))).then([{ type: 'PointsExpired', data: { points: 150, lotId: 'L4', asOf: day(375) } }]);
  });
});

describe('adjustments', () => {
  it('may take the balance below zero', () => {
    const after = given(run([enrol()]).events).when(adjust('a1', -80)).thenMatches([
      { type: 'PointsAdjusted', data: { points: -80, reason: 'goodwill', actor: 'op-1', lots: [{ lotId: 'L2', points: 50 }] } },
    ]);
    expect(available(after)).toBe(-30);
    expect(after.rare.debt).toBe(30);
  });
  it('a positive adjustment repays debt and opens a lot with the rest', () => {
    const { events } = run([enrol(), adjust('a1', -80)]);
    const after = given(events).when(adjust('a2', 100)).thenMatches([{ type: 'PointsAdjusted', data: { points: 100, repaid: 30, lotId: 'L4' } }]);
    expect(after.lots.toArray()).toEqual([{ id: 'L4', remaining: 70, expiresAt: Date.parse(EXP(T0)) / 1000 }]);
  });
  it('duplicates and conflicts by idempotency key', () => {
    const { events } = run([enrol(), adjust('a1', 10)]);
    given(events).when(adjust('a1', 10)).thenNothing();
    given(events).when(adjust('a1', 11)).thenRejects('idempotency-conflict');
  });
});

describe('birthday and referral', () => {
  it('grants the birthday bonus with the first purchase in the birthday month, once a year', () => {
    const { events } = run([enrol({ birthday: '1990-03-20' })]);
    const [, first] = [0, given(events).when(purchase('p1', 1000))];
    first.thenMatches([{ type: 'PurchaseMade' }, { type: 'PointsEarned', data: { cause: 'purchase' } }, { type: 'PointsEarned', data: { points: 100, cause: 'birthday', birthdayYear: 2025 } }]);
    const { events: after } = run([enrol({ birthday: '1990-03-20' }), purchase('p1', 1000)]);
    given(after).when(purchase('p2', 1000, day(2))).thenMatches([{ type: 'PurchaseMade' }, { type: 'PointsEarned', data: { cause: 'purchase' } }]);
    given(after).when(purchase('p3', 1000, '2026-03-01T10:00:00+01:00', '2026-03-01T10:00:00+01:00')).thenMatches([
      { type: 'PurchaseMade' },
      { type: 'PointsEarned', data: { cause: 'purchase' } },
      { type: 'PointsEarned', data: { cause: 'birthday', birthdayYear: 2026 } },
    ]);
  });
  it('credits the referee with the first purchase and completes the referral', () => {
    const { events } = run([enrol({ referredBy: 'm-0' })]);
    given(events).when(purchase('p1', 1000)).thenMatches([
      { type: 'PurchaseMade' },
      { type: 'PointsEarned', data: { cause: 'purchase' } },
      { type: 'PointsEarned', data: { points: 100, cause: 'referral', referrerId: 'm-0' } },
      { type: 'ReferralCompleted', data: { referrerId: 'm-0', refereeId: M, purchaseId: 'p1' } },
    ]);
    const { events: after } = run([enrol({ referredBy: 'm-0' }), purchase('p1', 1000)]);
    given(after).when(purchase('p2', 1000)).thenMatches([{ type: 'PurchaseMade' }, { type: 'PointsEarned', data: { cause: 'purchase' } }]);
  });
  it('credits the referrer once per referee (CreditReferral)', () => {
    const { events } = run([enrol()]);
    given(events).when(creditReferral('m-9')).thenMatches([{ type: 'PointsEarned', data: { points: 200, cause: 'referral', refereeId: 'm-9' } }]);
    const { events: after } = run([enrol(), creditReferral('m-9')]);
    given(after).when(creditReferral('m-9')).thenNothing();
    given([]).when(creditReferral('m-9')).thenRejects('not-enrolled');
  });
});
