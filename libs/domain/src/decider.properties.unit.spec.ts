// Properties of the decider over random command sequences, with duplicates and
// refunds that arrive before or after their purchase.
import fc from 'fast-check';
import {
  DEFAULT_PROGRAMME,
  MemberCommand,
  MemberEvent,
  MemberState,
  Programme,
  available,
  compact,
  decide,
  deserializeState,
  evolve,
  evolveAll,
  fromEnvelope,
  initialState,
  loadProgramme,
  lotsBalance,
  serializeState,
  toEnvelopes,
  envelopeMetaFor,
} from './index';
import defaultJson from '../../../programmes/default.json';

const M = 'm-1';
const RUNS = Number(process.env.FC_RUNS ?? 300);
const START = Date.parse('2025-01-01T00:00:00Z');
const DAY = 86_400_000;

const PROMO: Programme = loadProgramme({
  ...defaultJson,
  version: 'promo-1',
  promotions: [
    { id: 'double-app', from: '2025-01-01T00:00:00Z', to: '2025-06-01T00:00:00Z', channels: ['app'], multiplierBp: 20000 },
    { id: 'shoes', from: '2025-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', categories: ['shoes'], bonusPoints: 25, multiplierBp: 15000 },
  ],
});

/** A step: what to do, and how many hours pass before it. */
type Step =
  | { k: 'enrol'; referred: boolean; birthday: number }
  | { k: 'purchase'; id: number; amount: number; ageH: number; channel: number; shoes: number }
  | { k: 'refund'; rid: number; pid: number; amount: number }
  | { k: 'fullRefund'; rid: number; pid: number }
  | { k: 'redeem'; key: number; reward: number; points: number }
  | { k: 'adjust'; key: number; points: number }
  | { k: 'expire' }
  | { k: 'review' }
  | { k: 'referral'; referee: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ k: fc.constant('enrol' as const), referred: fc.boolean(), birthday: fc.integer({ min: 0, max: 12 }) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('purchase' as const),
      id: fc.integer({ min: 0, max: 15 }),
      amount: fc.oneof(fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 1, max: 700_000 })),
      ageH: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 24 * 100 })),
      channel: fc.integer({ min: 0, max: 4 }),
      shoes: fc.integer({ min: 0, max: 50_000 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('refund' as const), rid: fc.integer({ min: 0, max: 15 }), pid: fc.integer({ min: 0, max: 15 }), amount: fc.integer({ min: 1, max: 40_000 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('fullRefund' as const), rid: fc.integer({ min: 0, max: 15 }), pid: fc.integer({ min: 0, max: 15 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('redeem' as const), key: fc.integer({ min: 0, max: 8 }), reward: fc.integer({ min: 0, max: 5 }), points: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('adjust' as const), key: fc.integer({ min: 0, max: 8 }), points: fc.integer({ min: -800, max: 800 }).filter((n) => n !== 0) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('expire' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('review' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('referral' as const), referee: fc.integer({ min: 0, max: 3 }) }) },
);

const REWARDS = ['coffee', 'free-shipping', 'voucher-10', 'voucher-50', 'yacht'];
const CHANNELS = [undefined, 'store', 'online', 'app', 'partner'] as const;

/** Builds the commands, with a clock advancing by `gapsH` hours. Full refunds need the purchase amounts: resolved at run time. */
function toCommands(steps: readonly { s: Step; gapH: number }[], amounts: Map<string, number>): MemberCommand[] {
  let t = START;
  let n = 0;
  const occurred = new Map<string, string>();
  const out: MemberCommand[] = [];
  for (const { s, gapH } of steps) {
    t += gapH * 3_600_000;
    const now = new Date(t).toISOString();
    const metadata = { commandId: `c${n++}`, now, correlationId: 'corr' };
    switch (s.k) {
      case 'enrol':
        out.push({
          type: 'EnrolMember',
          data: {
            memberId: M,
            ...(s.referred ? { referredBy: 'm-ref' } : {}),
            ...(s.birthday > 0 ? { birthday: `1990-${String(s.birthday).padStart(2, '0')}-15` } : {}),
          },
          metadata,
        });
        break;
      case 'purchase': {
        const purchaseId = `p${s.id}`;
        if (!amounts.has(purchaseId)) {
          amounts.set(purchaseId, s.amount);
          occurred.set(purchaseId, new Date(t - s.ageH * 3_600_000).toISOString());
        }
        const amount = amounts.get(purchaseId) as number; // a repeated id is the same purchase (amount and time)
        const channel = CHANNELS[s.channel];
        out.push({
          type: 'RecordPurchase',
          data: {
            memberId: M,
            purchaseId,
            amount,
            currency: 'USD',
            occurredAt: occurred.get(purchaseId) as string,
            ...(channel ? { channel } : {}),
            items: [{ sku: 's', category: 'shoes', quantity: 1, unitPrice: s.shoes }],
          },
          metadata,
        });
        break;
      }
      case 'refund':
      case 'fullRefund': {
        const purchaseId = `p${s.pid}`;
        const amount = s.k === 'refund' ? s.amount : (amounts.get(purchaseId) ?? 1000);
        out.push({ type: 'RefundPurchase', data: { memberId: M, refundId: `r${s.rid}-${purchaseId}`, purchaseId, amount, currency: 'USD', occurredAt: now }, metadata });
        break;
      }
      case 'redeem':
        out.push({
          type: 'RedeemPoints',
          data: s.reward < REWARDS.length ? { memberId: M, idempotencyKey: `k${s.key}`, rewardId: REWARDS[s.reward] } : { memberId: M, idempotencyKey: `k${s.key}`, points: s.points, reference: 'ref' },
          metadata,
        });
        break;
      case 'adjust':
        out.push({ type: 'AdjustPoints', data: { memberId: M, idempotencyKey: `a${s.key}`, points: s.points, reason: 'r', actor: 'op' }, metadata });
        break;
      case 'expire':
        out.push({ type: 'ExpirePoints', data: { memberId: M, asOf: now }, metadata });
        break;
      case 'review': {
        const d = new Date(t);
        const asOf = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString();
        out.push({ type: 'ReviewTier', data: { memberId: M, asOf }, metadata });
        break;
      }
      case 'referral':
        out.push({ type: 'CreditReferral', data: { memberId: M, refereeId: `m-${s.referee}` }, metadata });
        break;
    }
  }
  return out;
}

const scenario = fc.record({
  steps: fc.array(fc.record({ s: step, gapH: fc.oneof(fc.integer({ min: 0, max: 48 }), fc.integer({ min: 0, max: 24 * 40 })) }), { minLength: 1, maxLength: 60 }),
  programme: fc.constantFrom(DEFAULT_PROGRAMME, PROMO),
  enrolFirst: fc.boolean(),
});

interface Run {
  events: MemberEvent[];
  perCommand: (readonly MemberEvent[])[];
  state: MemberState;
}

/** Runs the commands, checking the step invariants as it goes. */
function run(commands: readonly MemberCommand[], programme: Programme, checks = true): Run {
  let state = initialState(M);
  const events: MemberEvent[] = [];
  const perCommand: (readonly MemberEvent[])[] = [];
  for (const c of commands) {
    const d = decide(c, state, programme);
    if (checks) {
      // compaction forgets only what no decision can use
      expect(decide(c, compact(state, programme, c.metadata.now), programme)).toEqual(d);
    }
    if (!d.ok) {
      perCommand.push([]);
      continue;
    }
    const envs = toEnvelopes(M, state.sequence + 1, d.events, envelopeMetaFor(c));
    const before = state;
    const snapshot = checks ? JSON.stringify(before) : '';
    const batch = evolveAll(before, envs);
    const batchJson = checks ? JSON.stringify(batch) : '';
    for (const env of envs) {
      expect(env.sequence).toBe(state.sequence + 1); // no gaps
      state = evolve(state, env);
      if (checks) {
        expect(lotsBalance(state)).toBe(available(state)); // every point traceable
        expect(available(state)).toBe(state.earned - state.rare.redeemed - state.rare.expired - state.rare.reversed + state.rare.adjusted);
        expect(state.rare.debt).toBeGreaterThanOrEqual(0);
        if (state.rare.debt > 0) expect(state.lots.toArray()).toEqual([]);
        if (env.type === 'RewardRedeemed') expect(available(state)).toBeGreaterThanOrEqual(0);
      }
    }
    // the batch path gives the same state, and neither path touches the state it was given
    expect(batch).toEqual(state);
    if (checks) {
      expect(JSON.stringify(before)).toBe(snapshot);
      // a re-run from the state before (the ledger's, when a transaction aborts) gives the
      // same state again, and leaves the states of the first run as they were
      expect(evolveAll(before, envs)).toEqual(batch);
      expect(JSON.stringify(batch)).toBe(batchJson);
      expect(JSON.stringify(before)).toBe(snapshot);
    }
    events.push(...d.events);
    perCommand.push(d.events);
  }
  return { events, perCommand, state };
}

function prefix(enrolFirst: boolean, steps: { s: Step; gapH: number }[]) {
  return enrolFirst ? [{ s: { k: 'enrol', referred: true, birthday: 3 } as Step, gapH: 0 }, ...steps] : steps;
}

describe('decider properties', () => {
  it('keeps the balance identity, never redeems below zero, has no sequence gaps, replays to the same state', () => {
    fc.assert(
      fc.property(scenario, ({ steps, programme, enrolFirst }) => {
        const commands = toCommands(prefix(enrolFirst, steps), new Map());
        const live = run(commands, programme);
        // replay: through envelopes serialised as JSON, upcast, folded from the initial state
        const wire = JSON.parse(JSON.stringify(toEnvelopes(M, 1, live.events, { commandId: 'x', correlationId: 'y', recordedAt: '2025-01-01T00:00:00Z' })));
        const replayed = wire.map(fromEnvelope).reduce(evolve, initialState(M));
        expect(replayed).toEqual(live.state);
        expect(deserializeState(serializeState(live.state))).toEqual(live.state);
        // lot ids are unique
        const lotIds = live.events.flatMap((e) => (e.type === 'PointsEarned' || (e.type === 'PointsAdjusted' && e.data.lotId) ? [(e.data as { lotId: string }).lotId] : []));
        expect(new Set(lotIds).size).toBe(lotIds.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('gives the same events when accepted commands are delivered again', () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.nat(), { maxLength: 20 }), ({ steps, programme, enrolFirst }, picks) => {
        const commands = toCommands(prefix(enrolFirst, steps), new Map());
        const base = run(commands, programme, false);
        const accepted = commands.map((_c, i) => i).filter((i) => base.perCommand[i].length > 0);
        if (accepted.length === 0) return;
        // re-deliver some accepted commands 1-3 commands later (a redelivery), at that later time,
        // within the de-duplication window
        const dupAfter = new Map<number, MemberCommand[]>();
        for (const p of picks) {
          const i = accepted[p % accepted.length];
          const at = Math.min(commands.length - 1, i + 1 + (p % 3));
          const later = commands[at].metadata.now;
          // idempotency is promised within the de-duplication window (90 days) only
          if (Date.parse(later) - Date.parse(commands[i].metadata.now) >= 89 * DAY) continue;
          const dup = { ...commands[i], metadata: { ...commands[i].metadata, commandId: `dup-${p}`, now: later } } as MemberCommand;
          dupAfter.set(at, [...(dupAfter.get(at) ?? []), dup]);
        }
        const withDups: MemberCommand[] = [];
        commands.forEach((c, i) => {
          withDups.push(c);
          withDups.push(...(dupAfter.get(i) ?? []));
        });
        const again = run(withDups, programme, false);
        expect(again.events).toEqual(base.events);
        expect(again.state).toEqual(base.state);
      }),
      { numRuns: RUNS },
    );
  });

  it('the direct purchase path gives the events of the general one, to the byte (first purchases, which enrol, included)', () => {
    // a promotion that never applies sends every purchase down the general path
    const never = [{ id: 'never', from: '2000-01-01T00:00:00Z', to: '2000-01-02T00:00:00Z', bonusPoints: 1 }];
    fc.assert(
      fc.property(scenario, fc.constantFrom(50, 0), fc.boolean(), ({ steps, enrolFirst }, welcomeBonus, autoEnroll) => {
        const json = { ...defaultJson, welcomeBonus, autoEnroll };
        const general = loadProgramme({ ...json, promotions: never });
        const commands = toCommands(prefix(enrolFirst, steps), new Map());
        const direct = run(commands, loadProgramme(json), false);
        const viaGeneral = run(commands, general, false);
        expect(JSON.stringify(viaGeneral.events)).toBe(JSON.stringify(direct.events));
        expect(viaGeneral.state).toEqual(direct.state);
      }),
      { numRuns: RUNS },
    );
  });

  it('a full refund reverses exactly what the purchase earned', () => {
    fc.assert(
      fc.property(scenario, ({ steps, programme, enrolFirst }) => {
        const amounts = new Map<string, number>();
        const commands = toCommands(prefix(enrolFirst, steps), amounts);
        const { events, state } = run(commands, programme, false);
        const earned = new Map<string, number>();
        const reversed = new Map<string, number>();
        const refunded = new Map<string, number>();
        for (const e of events) {
          if (e.type === 'PointsEarned' && (e.data.cause === 'purchase' || e.data.cause === 'promotion') && e.data.purchaseId) {
            earned.set(e.data.purchaseId, (earned.get(e.data.purchaseId) ?? 0) + e.data.points);
          } else if (e.type === 'PointsReversed') {
            reversed.set(e.data.purchaseId, (reversed.get(e.data.purchaseId) ?? 0) + e.data.points);
          } else if (e.type === 'PurchaseRefunded') {
            refunded.set(e.data.purchaseId, (refunded.get(e.data.purchaseId) ?? 0) + e.data.amount);
          }
        }
        for (const p of state.purchases) {
          expect(refunded.get(p.id) ?? 0).toBe(p.refunded);
          expect(reversed.get(p.id) ?? 0).toBe(Math.floor(((earned.get(p.id) ?? 0) * p.refunded) / p.amount));
          if (p.refunded === p.amount) expect(reversed.get(p.id) ?? 0).toBe(earned.get(p.id) ?? 0);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
