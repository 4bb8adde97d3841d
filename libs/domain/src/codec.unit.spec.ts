// Properties of the fast paths: the regex-free ISO parser and formatter agree with the
// reference forms, and the member state survives serialisation exactly (format 4 and its
// JSON fallback; strings written by earlier ledgers: state-formats.unit.spec.ts).
import fc from 'fast-check';
import {
  LotList,
  PurchaseList,
  IdempotencyRecord,
  Lot,
  MemberState,
  OpenPurchase,
  addMonthsSeconds,
  deserializeState,
  expiryIso,
  flatToState,
  initialState,
  parseInstant,
  parseNow,
  secondsToIso,
  serializeState,
  serializeStateJson,
  serializeStateWide,
} from './index';

const RUNS = Number(process.env.FC_RUNS ?? 1000);

// The parser this one replaced, kept as the reference.
const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
const DIM = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function referenceParse(iso: string): number {
  const m = ISO_PARTS.exec(iso);
  if (m === null) return NaN;
  const [year, month, day, hour, minute] = [+m[1], +m[2], +m[3], +m[4], +m[5]];
  const second = m[6] === undefined ? 0 : +m[6];
  const leap = month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (leap ? 29 : DIM[month - 1]) || hour > 23 || minute > 59 || second > 59) return NaN;
  const ms = m[7] === undefined ? 0 : +(m[7] + '00').slice(0, 3);
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = +m[10];
    const om = +m[11];
    if (oh > 23 || om > 59) return NaN;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
}

const d2 = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
const isoLike: fc.Arbitrary<string> = fc
  .tuple(
    fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
    d2(13),
    d2(32),
    d2(24),
    d2(60),
    fc.option(d2(60)),
    fc.option(fc.stringMatching(/^[0-9]{0,11}$/)),
    fc.constantFrom('Z', '+', '-', 'z', ''),
    d2(25),
    d2(60),
  )
  .map(([y, mo, d, h, mi, s, frac, z, oh, om]) => {
    let t = `${y}-${mo}-${d}T${h}:${mi}`;
    if (s !== null) t += `:${s}${frac !== null ? `.${frac}` : ''}`;
    return z === '+' || z === '-' ? `${t}${z}${oh}:${om}` : t + z;
  });
// Valid forms, near misses (one character changed, dropped or added) and noise.
const instantText = fc.oneof(
  isoLike,
  fc.tuple(isoLike, fc.nat(), fc.constantFrom('', '0', ':', '.', 'T', 'Z', '+', ' ', '٣')).map(([s, i, c]) => {
    const k = i % (s.length + 1);
    return i % 2 === 0 ? s.slice(0, k) + c + s.slice(k + 1) : s.slice(0, k) + c + s.slice(k);
  }),
  fc.string(),
);

describe('instants', () => {
  it('parseInstant agrees with the regex reference', () => {
    fc.assert(
      fc.property(instantText, (s) => {
        expect(Object.is(parseInstant(s), referenceParse(s)) || parseInstant(s) === referenceParse(s)).toBe(true);
      }),
      { numRuns: RUNS * 5 },
    );
    for (const s of ['2025-03-01T00:00:00Z', '2024-02-29T23:59:59.999+14:00', '0050-01-01T00:00:00Z', '2025-02-29T00:00:00Z', '2025-01-01T00:00:00.1234567890Z']) {
      expect(parseInstant(s)).toEqual(referenceParse(s));
    }
  });

  it('secondsToIso writes what Date#toISOString writes, and parses back', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_167_219_200, max: 253_402_300_799 }), (s) => {
        const iso = new Date(s * 1000).toISOString();
        expect(secondsToIso(s)).toBe(iso);
        expect(parseInstant(secondsToIso(s))).toBe(referenceParse(iso));
      }),
      { numRuns: RUNS },
    );
  });

  it('secondsToIso and expiryIso agree with the reference for instants that share a day (the cached date part)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -62_167_219_200, max: 253_402_300_799 - 86_400 }),
        fc.array(fc.integer({ min: 0, max: 86_399 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 60 }),
        (s, offsets, months) => {
          const day = Math.floor(s / 86_400) * 86_400;
          for (const o of offsets) {
            expect(secondsToIso(day + o)).toBe(new Date((day + o) * 1000).toISOString());
            if (day + o >= 0 && day + o <= 6_000_000_000) expect(expiryIso(day + o, months)).toBe(new Date(addMonthsSeconds(day + o, months) * 1000).toISOString());
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('given a lot expiry formatted once, when other instants are parsed in between, then parseInstant still reads the expiry right (its own cache slot)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6_000_000_000 }), fc.array(instantText, { minLength: 0, maxLength: 4 }), (s, others) => {
        const expiry = expiryIso(s, 12);
        for (const o of others) expect(Object.is(parseInstant(o), referenceParse(o)) || parseInstant(o) === referenceParse(o)).toBe(true);
        expect(parseInstant(expiry)).toBe(referenceParse(expiry));
      }),
      { numRuns: RUNS },
    );
  });

  it('given a now parsed once, when other instants are parsed and minted in between, then parseNow and parseInstant still read every instant right (the now slot)', () => {
    fc.assert(
      fc.property(instantText, fc.array(fc.tuple(instantText, fc.integer({ min: 0, max: 6_000_000_000 })), { minLength: 0, maxLength: 4 }), (now, others) => {
        const same = (v: number, ref: number) => expect(Object.is(v, ref) || v === ref).toBe(true);
        same(parseNow(now), referenceParse(now));
        for (const [o, s] of others) {
          same(parseInstant(o), referenceParse(o));
          const expiry = expiryIso(s, 12);
          same(parseNow(now), referenceParse(now));
          same(parseNow(o), referenceParse(o));
          same(parseInstant(expiry), referenceParse(expiry));
          same(parseNow(now), referenceParse(now));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('addMonthsSeconds clamps the day as the calendar does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6_000_000_000 }), fc.integer({ min: 0, max: 60 }), (s, months) => {
        const d = new Date(s * 1000);
        const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
        const y = Math.floor(total / 12);
        const m = total % 12;
        const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
        const day = Math.min(d.getUTCDate(), last);
        const expected = Date.UTC(y, m, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
        expect(addMonthsSeconds(s, months)).toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- member state ----------------------------------------------------------------

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('', 'pos-100041', 'pos-100042', 'L7'));
const epoch = fc.integer({ min: 0, max: 4_000_000_000 });
const amount = fc.oneof(fc.nat({ max: 1000 }), fc.nat({ max: 1_000_000_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER));
const signed = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }));
const lotId = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 100_000 }).map((n) => `L${n}`) }, { weight: 1, arbitrary: text });

const lot: fc.Arbitrary<Lot> = fc.record({ id: lotId, remaining: amount, expiresAt: epoch });
const purchase: fc.Arbitrary<OpenPurchase> = fc.record({
  id: fc.oneof(text, fc.integer({ min: 0, max: 200 }).map((n) => `pos-${100_000 + n}`)),
  at: epoch,
  amount,
  refunded: amount,
  earned: amount,
  reversed: amount,
  programVersion: fc.constantFrom('2025-01', 'promo-1', ''),
  sequence: fc.nat({ max: 10_000 }),
  refundIds: fc.array(text, { maxLength: 3 }),
});
const idem: fc.Arbitrary<IdempotencyRecord> = fc.oneof(
  fc.record({
    key: text,
    requestHash: text,
    at: epoch,
    kind: fc.constantFrom('redemption' as const, 'adjustment' as const),
    ref: text,
    points: signed,
    available: signed,
    sequence: fc.nat({ max: 10_000 }),
  }),
  // a recorded refusal (RedemptionRefused): ref is the code, and the message is kept
  fc.record({
    key: text,
    requestHash: text,
    at: epoch,
    kind: fc.constant('refusal' as const),
    ref: fc.constantFrom('insufficient-points', 'unknown-reward'),
    points: signed,
    available: signed,
    sequence: fc.nat({ max: 10_000 }),
    message: text,
  }),
);
const state: fc.Arbitrary<MemberState> = fc
  .record({
    memberId: text,
    enrolled: fc.boolean(),
    sequence: fc.nat({ max: 100_000 }),
    tier: fc.constantFrom('', 'Member', 'Silver', 'Gold', 'Platinum'),
    earned: amount,
    redeemed: amount,
    expired: amount,
    reversed: amount,
    adjusted: signed,
    debt: amount,
    lots: fc.array(lot, { maxLength: 40 }).map((xs) => LotList.of(xs)),
    qualifying: fc.array(fc.tuple(epoch, signed), { maxLength: 60 }).map((pairs) => pairs.flat()),
    purchases: fc.array(purchase, { maxLength: 15 }).map((xs) => PurchaseList.of(xs)),
    idempotency: fc.array(idem, { maxLength: 4 }),
    birthdayMonth: fc.nat({ max: 12 }),
    lastBirthdayYear: fc.oneof(fc.constant(0), fc.integer({ min: 1900, max: 2100 })),
    referredBy: fc.option(text),
    referees: fc.array(text, { maxLength: 3 }),
    lastReviewAt: fc.oneof(fc.constant(0), epoch),
    purchaseCount: fc.nat({ max: 100_000 }),
    tierSince: fc.oneof(fc.constant(0), epoch),
  })
  .map((r) => flatToState(r));

describe('member state serialisation', () => {
  it('deserialize(serialize(s)) equals s, in format 4 or its JSON fallback', () => {
    fc.assert(
      fc.property(state, (s) => {
        const raw = serializeState(s);
        expect(deserializeState(raw)).toEqual(s);
        expect(serializeState(deserializeState(raw))).toBe(raw);
      }),
      { numRuns: RUNS },
    );
  });

  it('reads the JSON form (written for states format 4 cannot hold)', () => {
    fc.assert(
      fc.property(state, (s) => {
        const json = serializeStateJson(s);
        expect(json.startsWith('[4,')).toBe(true);
        expect(deserializeState(json)).toEqual(s);
      }),
      { numRuns: RUNS },
    );
  });

  it('given any state format 4 holds, when written, then the Latin-1 writer and the wide writer (chars above U+00FF) give the same string', () => {
    fc.assert(
      fc.property(state, (s) => {
        const raw = serializeState(s);
        if (raw.startsWith('[')) return; // the JSON form
        expect(serializeStateWide(s)).toBe(raw);
      }),
      { numRuns: RUNS },
    );
  });

  it('given lot ids at the edges of the L<n> rule, when written, then only L1 to L followed by 15 digits are format 4', () => {
    const written = (id: string) => serializeState({ ...initialState('m-1'), lots: LotList.of([{ id, remaining: 5, expiresAt: 1_770_000_000 }]) });
    for (const id of ['L1', 'L9', 'L123456789012345']) expect(written(id).startsWith('4')).toBe(true);
    for (const id of ['L', 'L0', 'L01', 'L1234567890123456', 'l5', 'L5x', 'L-5', 'L 5', 'L\u0663']) expect(written(id).startsWith('[4,')).toBe(true);
  });

  it('writes format 4 for ordinary states and refuses garbage', () => {
    const s: MemberState = { ...initialState('m-1'), lots: LotList.of([{ id: 'L3', remaining: 10, expiresAt: 1_767_000_000 }]) };
    expect(serializeState(s).startsWith('4')).toBe(true);
    expect(() => deserializeState('4###')).toThrow();
    expect(() => deserializeState('2###')).toThrow();
    expect(() => deserializeState('3###')).toThrow();
    expect(() => deserializeState(serializeState(s) + 'x')).toThrow();
    expect(() => deserializeState('[9]')).toThrow(/unknown member state format/);
  });
});
