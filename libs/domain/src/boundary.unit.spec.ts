// The programme loader, the inbound validator (and its agreement with the DTOs),
// state serialisation, envelopes and upcasting.
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import defaultJson from '../../../programmes/default.json';
import {
  DEFAULT_PROGRAMME,
  EventEnvelope,
  MemberState,
  ProgrammeError,
  compact,
  PurchaseMessageDto,
  decide,
  deserializeState,
  evolve,
  initialState,
  loadProgramme,
  referralCommandFor,
  serializeState,
  toEnvelopes,
  upcast,
  validatePurchaseMessage,
} from './index';

const meta = { commandId: 'c1', now: '2025-03-10T12:00:00Z', correlationId: 'k1' };
const good = {
  purchaseId: 'p-1',
  memberId: 'm-1',
  amount: 12345,
  currency: 'USD',
  occurredAt: '2025-03-10T10:00:00+02:00',
  channel: 'store',
  items: [{ sku: 'a', category: 'shoes', quantity: 2, unitPrice: 100 }],
};

describe('loadProgramme', () => {
  it('loads the default programme of CONTRACT.md', () => {
    expect(DEFAULT_PROGRAMME.tiers.map((t) => [t.name, t.threshold, t.multiplierBp])).toEqual([
      ['Member', 0, 10000],
      ['Silver', 500, 12500],
      ['Gold', 2000, 15000],
      ['Platinum', 5000, 20000],
    ]);
    expect(DEFAULT_PROGRAMME.rewards.map((r) => [r.id, r.points])).toEqual([
      ['coffee', 100],
      ['free-shipping', 150],
      ['voucher-10', 500],
      ['voucher-50', 2000],
    ]);
    expect(DEFAULT_PROGRAMME.review).toEqual({ downgradeLevels: 1, downgradeGraceMonths: 0 });
    expect(loadProgramme({ ...defaultJson, review: { downgradeLevels: 2 } }).review).toEqual({ downgradeLevels: 2, downgradeGraceMonths: 0 });
    expect(loadProgramme({ ...defaultJson, review: { downgradeGraceMonths: 6 } }).review).toEqual({ downgradeLevels: 1, downgradeGraceMonths: 6 });
    expect(DEFAULT_PROGRAMME).toMatchObject({ currency: 'USD', welcomeBonus: 50, birthdayBonus: 100, referral: { referrer: 200, referee: 100 }, expiryMonths: 12, dedupWindowDays: 90, autoEnroll: true });
  });
  it.each([
    [{ tiers: [{ name: 'Member', threshold: 0, multiplierBp: 10000 }, { name: 'S', threshold: 500, multiplierBp: 1 }, { name: 'G', threshold: -1, multiplierBp: 1 }] }, 'programme.tiers[2].threshold must be a non-negative integer'],
    [{ currency: 'usd' }, 'programme.currency must be an ISO 4217 code (3 capital letters)'],
    [{ welcomeBonus: 1.5 }, 'programme.welcomeBonus must be a non-negative integer'],
    [{ rewards: [{ id: 'x', points: 0 }] }, 'programme.rewards[0].points must be an integer in 1..9007199254740991'],
    [{ earn: { points: 1 } }, 'programme.earn.perMinorUnits must be an integer in 1..9007199254740991'],
    [{ promotions: [{ id: 'p', from: '2025-01-01', to: '2025-02-01T00:00:00Z', bonusPoints: 5 }] }, 'programme.promotions[0].from must be an ISO 8601 instant with offset'],
    [{ tiers: [{ name: 'Member', threshold: 10, multiplierBp: 10000 }] }, 'programme.tiers[0].threshold must be 0 (the tier of a new member)'],
    [{ review: { downgradeLevels: 1, downgradeGraceMonths: -1 } }, 'programme.review.downgradeGraceMonths must be a non-negative integer'],
    [{ review: { downgradeGraceMonths: 1.5 } }, 'programme.review.downgradeGraceMonths must be a non-negative integer'],
    [{ review: { downgradeGraceMonths: 1201 } }, 'programme.review.downgradeGraceMonths must be a non-negative integer'],
  ])('refuses a bad field, naming it (%#)', (patch, message) => {
    expect(() => loadProgramme({ ...defaultJson, ...patch })).toThrow(new ProgrammeError('', message));
    try {
      loadProgramme({ ...defaultJson, ...patch });
    } catch (e) {
      expect((e as Error).message).toBe(message);
    }
  });
});

describe('validatePurchaseMessage', () => {
  it('turns a purchase into RecordPurchase and a refund into RefundPurchase', () => {
    expect(validatePurchaseMessage(good, meta)).toEqual({ ok: true, command: { type: 'RecordPurchase', data: good, metadata: meta } });
    const r = validatePurchaseMessage(Buffer.from(JSON.stringify({ ...good, kind: 'refund', refundId: 'r-1' })), meta);
    expect(r).toMatchObject({ ok: true, command: { type: 'RefundPurchase', data: { refundId: 'r-1', purchaseId: 'p-1', amount: 12345 } } });
  });
  it.each([
    ['{not json', 'not-json', undefined],
    ['[1]', 'not-object', undefined],
    [JSON.stringify({ ...good, amount: -1 }), 'invalid-field', 'amount'],
    [JSON.stringify({ ...good, amount: 1.5 }), 'invalid-field', 'amount'],
    [JSON.stringify({ ...good, amount: 1e12 + 1 }), 'invalid-field', 'amount'],
    [JSON.stringify({ ...good, amount: '100' }), 'invalid-field', 'amount'],
    [JSON.stringify({ ...good, memberId: undefined }), 'missing-field', 'memberId'],
    [JSON.stringify({ ...good, memberId: 'x'.repeat(129) }), 'invalid-field', 'memberId'],
    [JSON.stringify({ ...good, currency: 'usd' }), 'invalid-field', 'currency'],
    [JSON.stringify({ ...good, occurredAt: '2025-03-10T10:00:00' }), 'invalid-field', 'occurredAt'],
    [JSON.stringify({ ...good, occurredAt: '2025-02-30T10:00:00Z' }), 'invalid-field', 'occurredAt'],
    [JSON.stringify({ ...good, channel: 'fax' }), 'invalid-field', 'channel'],
    [JSON.stringify({ ...good, kind: 'refund' }), 'missing-field', 'refundId'],
    [JSON.stringify({ ...good, items: [{ sku: 'a', category: 'c', quantity: 0, unitPrice: 1 }] }), 'invalid-field', 'items[0].quantity'],
    [JSON.stringify({ ...good, storeId: 'x'.repeat(70_000) }), 'oversized', undefined],
  ])('refuses %s as %s', (raw, reason, field) => {
    const v = validatePurchaseMessage(Buffer.from(raw), meta);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.reason).toBe(reason);
      expect(v.details.field).toBe(field);
      expect(v.message).toEqual(expect.any(String));
    }
  });
  it('agrees with the class-validator DTO on random messages', () => {
    const anyValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.boolean());
    const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
    const msg = fc.record(
      {
        kind: field(fc.constantFrom('purchase', 'refund')),
        purchaseId: field(fc.string({ minLength: 1, maxLength: 130 })),
        refundId: field(fc.string({ minLength: 1, maxLength: 10 })),
        memberId: field(fc.string({ minLength: 0, maxLength: 130 })),
        amount: field(fc.oneof(fc.integer({ min: -5, max: 1e6 }), fc.constant(1e12), fc.constant(1e12 + 1))),
        currency: field(fc.constantFrom('USD', 'EUR', 'usd', 'US')),
        occurredAt: field(fc.constantFrom('2025-03-10T10:00:00Z', '2025-03-10T10:00:00.123+05:30', '2025-03-10T10:00:00', '2025-13-10T10:00:00Z', '2025-03-10')),
        channel: field(fc.constantFrom('store', 'online', 'app', 'partner', 'fax')),
        storeId: field(fc.string({ minLength: 0, maxLength: 130 })),
        items: field(fc.array(fc.record({ sku: field(fc.string({ minLength: 1, maxLength: 5 })), category: field(fc.constant('c')), quantity: field(fc.integer({ min: 0, max: 5 })), unitPrice: field(fc.integer({ min: -1, max: 5 })) }), { maxLength: 3 })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(msg, (m) => {
        const clean = JSON.parse(JSON.stringify(m)); // as it arrives: no undefined
        const fast = validatePurchaseMessage(clean, meta).ok;
        // null is "absent" for the fast path; the DTO sees what JSON gives it
        const dtoInput = Object.fromEntries(Object.entries(clean).filter(([, v]) => v !== null));
        if (Array.isArray(dtoInput.items)) dtoInput.items = (dtoInput.items as unknown[]).map((i) => (i && typeof i === 'object' ? i : i));
        const errors = validateSync(plainToInstance(PurchaseMessageDto, dtoInput) as object);
        expect(errors.length === 0).toBe(fast);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('state serialisation', () => {
  it('round-trips a state and measures a year of weekly purchases', () => {
    let s: MemberState = initialState('member-000123');
    const run = (c: Parameters<typeof decide>[0]) => {
      const d = decide(c, s, DEFAULT_PROGRAMME);
      if (!d.ok) throw new Error(d.rejection.code);
      s = d.events.reduce(evolve, s);
    };
    run({ type: 'EnrolMember', data: { memberId: 'member-000123', birthday: '1990-06-01' }, metadata: meta });
    for (let w = 0; w < 52; w++) {
      const at = new Date(Date.parse('2025-01-06T17:00:00Z') + w * 7 * 86_400_000).toISOString();
      run({ type: 'RecordPurchase', data: { memberId: 'member-000123', purchaseId: `pos-${100000 + w}`, amount: 2000 + w * 37, currency: 'USD', occurredAt: at }, metadata: { ...meta, now: at } });
    }
    expect(deserializeState(serializeState(s))).toEqual(s);
    const json = serializeState(compact(s, DEFAULT_PROGRAMME, '2025-12-29T17:00:00Z'));
    expect(json.length).toBeLessThan(1024);
  });
});

describe('envelopes', () => {
  const events = decide({ type: 'EnrolMember', data: { memberId: 'm-1', referredBy: 'm-0' }, metadata: meta }, initialState('m-1'), DEFAULT_PROGRAMME);
  it('numbers events without gaps and derives stable UUID event ids', () => {
    if (!events.ok) throw new Error();
    const a = toEnvelopes('m-1', 1, events.events, { commandId: 'c1', correlationId: 'k', recordedAt: meta.now });
    expect(a.map((e) => e.sequence)).toEqual([1, 2]);
    expect(a[0].eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(toEnvelopes('m-1', 1, events.events, { commandId: 'c1', correlationId: 'k', recordedAt: meta.now })).toEqual(a);
    expect(new Set(a.map((e) => e.eventId)).size).toBe(2);
    expect(a[0]).toMatchObject({ type: 'MemberEnrolled', version: 1, memberId: 'm-1', causationId: 'c1', correlationId: 'k', recordedAt: meta.now, occurredAt: meta.now });
  });
  it('given a PurchaseMade v1 (no data.recordedAt), when read, then it is a v2 with the envelope time; unknown versions are refused', () => {
    const old = { eventId: 'e', type: 'PurchaseMade', version: 1, memberId: 'm', sequence: 3, occurredAt: 't', recordedAt: '2025-01-01T00:00:00Z', causationId: 'c', correlationId: 'k', data: { purchaseId: 'p', amount: 1, currency: 'USD', occurredAt: '2025-01-01T00:00:00Z' } } as const;
    const read = upcast(old);
    expect(read.version).toBe(2);
    expect(read.data).toEqual({ ...old.data, recordedAt: '2025-01-01T00:00:00Z' });
    expect(upcast(read)).toEqual(read); // a current event passes unchanged
    expect(() => upcast({ ...old, version: 3 })).toThrow(/newer than this reader/);
    expect(() => upcast({ ...old, type: 'Nope' })).toThrow(/unknown event type/);
  });
  it('builds the referrer credit from ReferralCompleted', () => {
    const env = { eventId: 'e-9', type: 'ReferralCompleted', version: 1, memberId: 'm-1', sequence: 5, occurredAt: 't', recordedAt: 't', causationId: 'c', correlationId: 'k', data: { referrerId: 'm-0', refereeId: 'm-1' } } as EventEnvelope<{ type: 'ReferralCompleted'; data: { referrerId: string; refereeId: string } }>;
    expect(referralCommandFor(env, meta.now)).toEqual({ type: 'CreditReferral', data: { memberId: 'm-0', refereeId: 'm-1' }, metadata: { commandId: 'referral/e-9', now: meta.now, correlationId: 'k' } });
  });
});

describe('control characters at the boundary', () => {
  it('given a NUL in an id or the store, when validated, then the message is refused naming the field', () => {
    const base = { purchaseId: 'p', memberId: 'm', amount: 100, currency: 'USD', occurredAt: '2026-01-01T00:00:00Z' };
    for (const [field, value] of [['memberId', 'a\u0000b'], ['purchaseId', 'x\u0007'], ['storeId', 'shop\u0000']] as const) {
      const v = validatePurchaseMessage({ ...base, [field]: value });
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.details.field).toBe(field);
    }
  });
});
