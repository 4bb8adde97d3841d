import fc from 'fast-check';
import { CURRENT_EVENT_VERSION } from '@loyalty/domain';
import { History } from '../testing/envelopes';
import { foldRedisBatch, foldRedisViews } from './redis.projection';
import { redisViewOf, redisViewOfRecord, redisViewOfRecordSlow } from './redis.view';

/** What a reading gives: the view, or the error it throws. */
function outcome(read: () => unknown): unknown {
  try {
    return { view: read() };
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
}

function expectSame(bytes: Buffer): void {
  expect(outcome(() => redisViewOfRecord(bytes))).toEqual(outcome(() => redisViewOfRecordSlow(bytes)));
}

const at = '2025-03-31T23:00:00.000Z';
function history(): History {
  const h = new History();
  h.enrol('a', at);
  h.enrol('b', '2025-03-31T23:00:00+02:00', { tier: 'Gold', referredBy: 'a', birthday: '1990-01-01' });
  const lot = h.purchase('a', 'p1', 10_000, at)!;
  h.add('a', 'TierChanged', { from: 'Member', to: 'Silver', reason: 'upgrade', effectiveAt: at } as never, at);
  h.add('a', 'RewardRedeemed', { redemptionId: 'r1', rewardId: 'coffee', points: 60, lots: [{ lotId: lot, points: 60 }] } as never, '2025-04-01T10:00:00.000Z');
  h.add('a', 'PurchaseRefunded', { refundId: 'f1', purchaseId: 'p1', amount: 5_000 }, '2025-04-02T10:00:00.000Z');
  h.add('a', 'PointsReversed', { points: 40, purchaseId: 'p1', refundId: 'f1', programVersion: 't', lots: [{ lotId: lot, points: 40 }] } as never, '2025-04-02T10:00:00.000Z');
  h.add('a', 'PointsExpired', { points: 0, lotId: lot, asOf: at } as never, at);
  h.add('a', 'PointsAdjusted', { points: -7, reason: 'goodwill "fix"\n', actor: 'ops\\1', adjustmentId: 'z' } as never, at);
  h.add('b', 'ReferralCompleted', { referrerId: 'a', refereeId: 'b' } as never, at);
  h.add('b', 'RedemptionRefused', { idempotencyKey: 'k', requestHash: 'h', points: 500, code: 'insufficient-points', message: 'm', available: 0, recordedAt: at } as never, at);
  h.add('ü-ñ 🎉', 'PurchaseMade', { purchaseId: 'p2', amount: 1, currency: 'USD', occurredAt: at, recordedAt: at }, '2025-12-31T23:59:59.999-01:00');
  h.add('c', 'PurchaseMade', { purchaseId: 'p3', amount: 0, currency: 'USD', occurredAt: at, recordedAt: at }, 'not a date');
  return h;
}

describe('the Redis view of a record', () => {
  it('is what the upcast envelope gives, for every type the ledger writes', () => {
    const h = history();
    for (const { envelope } of h.events) {
      const bytes = Buffer.from(JSON.stringify(envelope));
      expect(redisViewOfRecord(bytes)).toEqual(redisViewOf(envelope));
      expectSame(bytes);
      expectSame(Buffer.from(JSON.stringify(envelope, null, 2)));
    }
    const envs = h.events.map((e) => e.envelope);
    expect(foldRedisViews(envs.map((e) => redisViewOfRecord(Buffer.from(JSON.stringify(e)))))).toEqual(foldRedisBatch(envs));
  });

  it('upcasts old versions and refuses unknown types and newer versions, as the envelope path does', () => {
    const h = history();
    const p = h.events.find((e) => e.envelope.type === 'PurchaseMade')!.envelope;
    for (const variant of [
      { ...p, version: 1 },
      { ...p, version: CURRENT_EVENT_VERSION.PurchaseMade + 1 },
      { ...p, type: 'PointsHeld' },
      { ...p, version: undefined },
      { ...p, sequence: 1.5 },
      { ...p, sequence: 2 ** 60 },
      { ...p, data: { ...p.data, amount: 1e21 } },
    ]) {
      expectSame(Buffer.from(JSON.stringify(variant)));
    }
    expect(() => redisViewOfRecord(Buffer.from(JSON.stringify({ ...p, version: 9 })))).toThrow();
  });

  it('agrees with JSON.parse on odd but valid JSON, and on bytes JSON.parse refuses', () => {
    const p = history().events[2].envelope;
    const s = JSON.stringify(p);
    const cases = [
      s.replace('"type"', '"t\\u0079pe"'),
      s.replace('"memberId":"a"', '"memberId":"\\u0061"'),
      s.replace('{', '{"type":"Nope",'),
      s.replace('{', '{"memberId":"x",'),
      s.replace('"data":', '"data":{"amount":5},"data":'),
      s.slice(0, -1) + ',"data":{"amount":7,"x":[1,{"y":null}]}}',
      s.replace(/,/g, ' ,\n\t'),
      s.replace(/:/g, ' : '),
      ` ${s} \r\n`,
      `\uFEFF${s}`,
      `${s}x`,
      s.slice(0, -1),
      s.replace('"amount":', '"amount":-'),
      s.replace('"amount":', '"amount":0'),
      s.replace('"amount":', '"amount":1.'),
      s.replace('"channel":"store"', '"channel":"st\\qre"'),
      s.replace('"channel":"store"', '"channel":"st\u0001re"'),
      s.replace('"channel":"store"', '"channel":tru'),
      s.replace('"channel":"store"', '"channel":[1,2,{"a":[]},-0.5e-3,true,false,null]'),
      s.replace('"channel":"store"', '"channel":[1,]'),
      s.replace('"channel":"store"', '"channel":"\\u12G4"'),
      s.replace('"occurredAt":"2025-03-31T23:00:00.000Z"', '"occurredAt":"2025-03-31T23:00:00.00éZ"'),
      s.replace('"occurredAt":"2025-03-31T23:00:00.000Z"', '"occurredAt":"2025-03-31T23:00:00+01:00"'),
      '[]',
      '{}',
      'null',
      '',
    ];
    for (const c of cases) expectSame(Buffer.from(c));
    expectSame(Buffer.concat([Buffer.from(s.slice(0, 40)), Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from(s.slice(40))]));
  });

  const jsonText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('Member', 'Gold', '', '2025-01-31T23:59:59.999Z', '2025-01-31T23:59:59+05:00'));
  const value = fc.oneof(fc.integer(), fc.double(), jsonText, fc.constant(null), fc.boolean(), fc.constant(-0), fc.array(fc.integer(), { maxLength: 2 }));

  it('agrees with the envelope path on arbitrary envelopes, spacing and escapes (property)', () => {
    const types = [...Object.keys(CURRENT_EVENT_VERSION), 'Unknown'];
    fc.assert(
      fc.property(
        fc.record({
          type: fc.constantFrom(...types),
          version: fc.oneof(fc.integer({ min: 0, max: 3 }), value),
          memberId: fc.oneof(jsonText, value),
          sequence: fc.oneof(fc.integer({ min: -5, max: 1e6 }), value),
          occurredAt: fc.oneof(jsonText, value),
          data: fc.record({ points: value, amount: value, tier: value, to: value, other: value }, { requiredKeys: [] }),
          eventId: fc.uuid(),
        }),
        fc.boolean(),
        fc.boolean(),
        (env, spaced, escaped) => {
          let s = JSON.stringify(env, null, spaced ? 1 : undefined);
          if (escaped) s = s.replace(/[a-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
          expectSame(Buffer.from(s));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees with JSON.parse on damaged records (property)', () => {
    const envs = history().events.map((e) => Buffer.from(JSON.stringify(e.envelope)));
    fc.assert(
      fc.property(fc.nat(envs.length - 1), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (k, where, byte, cut) => {
        const b = Buffer.from(envs[k]);
        const i = where % b.length;
        expectSame(cut ? b.subarray(0, i) : (b.writeUInt8(byte, i), b));
      }),
      { numRuns: 5000 },
    );
  });
});
