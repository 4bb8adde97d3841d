// Member state and `evolve`. The state is what `decide` needs and nothing more;
// it is rebuilt from the events alone (evolve never consults the programme).
// Instants are epoch seconds. Arrays are copied on write (readonly records).

import { EventEnvelope, LotTaken, MemberEvent } from './events';
import { toSeconds } from './time';

export interface Lot {
  readonly id: string;
  readonly remaining: number;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/** Qualifying points of purchases, by the purchase's occurredAt (epoch seconds). */
export interface QualifyingEntry {
  readonly at: number;
  readonly points: number;
}

/** A purchase still open to refunds (and remembered for de-duplication). */
export interface OpenPurchase {
  readonly id: string;
  /** occurredAt, epoch seconds. */
  readonly at: number;
  readonly amount: number;
  readonly refunded: number;
  /** Points the purchase actually earned (causes purchase + promotion). */
  readonly earned: number;
  readonly reversed: number;
  readonly programVersion: string;
  /** Sequence of its PurchaseMade event. */
  readonly sequence: number;
  readonly refundIds: readonly string[];
}

/** The remembered outcome of a redemption or adjustment, by idempotency key. */
export interface IdempotencyRecord {
  readonly key: string;
  readonly requestHash: string;
  /** Recording time, epoch seconds. */
  readonly at: number;
  readonly kind: 'redemption' | 'adjustment';
  /** redemptionId or adjustmentId. */
  readonly ref: string;
  readonly points: number;
  readonly available: number;
  readonly sequence: number;
}

export interface MemberState {
  readonly memberId: string;
  readonly enrolled: boolean;
  /** Number of events in the member's stream so far (the last sequence). */
  readonly sequence: number;
  readonly tier: string;
  readonly earned: number;
  readonly redeemed: number;
  readonly expired: number;
  readonly reversed: number;
  /** Signed sum of adjustments. */
  readonly adjusted: number;
  /** Points owed (a negative balance); later earnings repay it first. Lots are empty while > 0. */
  readonly debt: number;
  /** Oldest first. */
  readonly lots: readonly Lot[];
  readonly qualifying: readonly QualifyingEntry[];
  readonly purchases: readonly OpenPurchase[];
  readonly idempotency: readonly IdempotencyRecord[];
  /** Birthday month 1..12, 0 when unknown. */
  readonly birthdayMonth: number;
  readonly lastBirthdayYear: number;
  /** Referrer awaiting this member's first purchase. */
  readonly referredBy: string | null;
  /** Referees already credited to this member (as referrer). */
  readonly referees: readonly string[];
  /** As-of (epoch seconds) of the last review that changed the tier, 0 if none. */
  readonly lastReviewAt: number;
  readonly purchaseCount: number;
}

export function initialState(memberId: string): MemberState {
  return {
    memberId,
    enrolled: false,
    sequence: 0,
    tier: '',
    earned: 0,
    redeemed: 0,
    expired: 0,
    reversed: 0,
    adjusted: 0,
    debt: 0,
    lots: EMPTY,
    qualifying: EMPTY,
    purchases: EMPTY,
    idempotency: EMPTY,
    birthdayMonth: 0,
    lastBirthdayYear: 0,
    referredBy: null,
    referees: EMPTY,
    lastReviewAt: 0,
    purchaseCount: 0,
  };
}

const EMPTY: readonly never[] = Object.freeze([]);

/** available = earned − redeemed − expired − reversed + adjusted */
export function available(s: MemberState): number {
  return s.earned - s.redeemed - s.expired - s.reversed + s.adjusted;
}

/** Sum of lots remaining minus debt; always equals `available` (a checked invariant). */
export function lotsBalance(s: MemberState): number {
  let sum = 0;
  for (const l of s.lots) sum += l.remaining;
  return sum - s.debt;
}

/** Applies one event. Accepts a bare event or its envelope (only type and data are read). */
export function evolve(state: MemberState, e: MemberEvent | EventEnvelope): MemberState {
  const event = e as MemberEvent;
  const sequence = state.sequence + 1;
  switch (event.type) {
    case 'MemberEnrolled': {
      const d = event.data;
      return {
        ...state,
        sequence,
        enrolled: true,
        tier: d.tier,
        birthdayMonth: d.birthday ? +d.birthday.slice(5, 7) : 0,
        referredBy: d.referredBy ?? null,
      };
    }
    case 'PurchaseMade': {
      const d = event.data;
      const p: OpenPurchase = {
        id: d.purchaseId,
        at: toSeconds(d.occurredAt),
        amount: d.amount,
        refunded: 0,
        earned: 0,
        reversed: 0,
        programVersion: '',
        sequence,
        refundIds: EMPTY,
      };
      return { ...state, sequence, purchases: append(state.purchases, p), purchaseCount: state.purchaseCount + 1 };
    }
    case 'PointsEarned': {
      const d = event.data;
      const repaid = d.repaid ?? 0;
      const open = d.points - repaid;
      let { purchases, qualifying, referees } = state;
      let { lastBirthdayYear } = state;
      if ((d.cause === 'purchase' || d.cause === 'promotion') && d.purchaseId !== undefined) {
        const i = findPurchase(purchases, d.purchaseId);
        if (i >= 0) {
          const p = purchases[i];
          purchases = replaceAt(purchases, i, { ...p, earned: p.earned + d.points, programVersion: d.programVersion });
          qualifying = addQualifying(qualifying, p.at, d.points);
        }
      } else if (d.cause === 'birthday' && d.birthdayYear !== undefined) {
        lastBirthdayYear = Math.max(lastBirthdayYear, d.birthdayYear);
      } else if (d.cause === 'referral' && d.refereeId !== undefined) {
        referees = append(referees, d.refereeId);
      }
      return {
        ...state,
        sequence,
        earned: state.earned + d.points,
        debt: state.debt - repaid,
        lots: open > 0 ? append(state.lots, { id: d.lotId, remaining: open, expiresAt: toSeconds(d.expiresAt) }) : state.lots,
        purchases,
        qualifying,
        referees,
        lastBirthdayYear,
      };
    }
    case 'TierChanged': {
      const d = event.data;
      return {
        ...state,
        sequence,
        tier: d.to,
        lastReviewAt: d.reason === 'review' && d.asOf ? toSeconds(d.asOf) : state.lastReviewAt,
      };
    }
    case 'RewardRedeemed': {
      const d = event.data;
      const next: MemberState = { ...state, sequence, redeemed: state.redeemed + d.points, lots: takeLots(state.lots, d.lots) };
      if (d.idempotencyKey === undefined) return next;
      return {
        ...next,
        idempotency: append(state.idempotency, {
          key: d.idempotencyKey,
          requestHash: d.requestHash ?? '',
          at: d.recordedAt ? toSeconds(d.recordedAt) : 0,
          kind: 'redemption',
          ref: d.redemptionId,
          points: d.points,
          available: available(next),
          sequence,
        }),
      };
    }
    case 'PurchaseRefunded': {
      const d = event.data;
      const i = findPurchase(state.purchases, d.purchaseId);
      if (i < 0) return { ...state, sequence };
      const p = state.purchases[i];
      return {
        ...state,
        sequence,
        purchases: replaceAt(state.purchases, i, { ...p, refunded: p.refunded + d.amount, refundIds: append(p.refundIds, d.refundId) }),
      };
    }
    case 'PointsReversed': {
      const d = event.data;
      const taken = sumTaken(d.lots);
      let { purchases, qualifying } = state;
      const i = findPurchase(purchases, d.purchaseId);
      if (i >= 0) {
        const p = purchases[i];
        purchases = replaceAt(purchases, i, { ...p, reversed: p.reversed + d.points });
        qualifying = addQualifying(qualifying, p.at, -d.points);
      }
      return {
        ...state,
        sequence,
        reversed: state.reversed + d.points,
        debt: state.debt + (d.points - taken),
        lots: takeLots(state.lots, d.lots),
        purchases,
        qualifying,
      };
    }
    case 'PointsExpired': {
      const d = event.data;
      return { ...state, sequence, expired: state.expired + d.points, lots: takeLots(state.lots, [d]) };
    }
    case 'PointsAdjusted': {
      const d = event.data;
      let next: MemberState;
      if (d.points >= 0) {
        const repaid = d.repaid ?? 0;
        const open = d.points - repaid;
        next = {
          ...state,
          sequence,
          adjusted: state.adjusted + d.points,
          debt: state.debt - repaid,
          lots:
            open > 0 && d.lotId !== undefined && d.expiresAt !== undefined
              ? append(state.lots, { id: d.lotId, remaining: open, expiresAt: toSeconds(d.expiresAt) })
              : state.lots,
        };
      } else {
        const lots = d.lots ?? EMPTY;
        next = {
          ...state,
          sequence,
          adjusted: state.adjusted + d.points,
          debt: state.debt + (-d.points - sumTaken(lots)),
          lots: takeLots(state.lots, lots),
        };
      }
      if (d.idempotencyKey === undefined) return next;
      return {
        ...next,
        idempotency: append(state.idempotency, {
          key: d.idempotencyKey,
          requestHash: d.requestHash ?? '',
          at: d.recordedAt ? toSeconds(d.recordedAt) : 0,
          kind: 'adjustment',
          ref: d.adjustmentId,
          points: d.points,
          available: available(next),
          sequence,
        }),
      };
    }
    case 'ReferralCompleted':
      return { ...state, sequence, referredBy: null };
    default:
      return assertNever(event);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(x)}`);
}

export function findPurchase(purchases: readonly OpenPurchase[], purchaseId: string): number {
  for (let i = purchases.length - 1; i >= 0; i--) if (purchases[i].id === purchaseId) return i;
  return -1;
}

function append<T>(xs: readonly T[], x: T): readonly T[] {
  const out = xs.slice();
  out.push(x);
  return out;
}

function replaceAt<T>(xs: readonly T[], i: number, x: T): readonly T[] {
  const out = xs.slice();
  out[i] = x;
  return out;
}

function sumTaken(lots: readonly LotTaken[]): number {
  let s = 0;
  for (const l of lots) s += l.points;
  return s;
}

/** Removes taken points from lots; lots that reach zero are dropped. */
function takeLots(lots: readonly Lot[], taken: readonly LotTaken[]): readonly Lot[] {
  if (taken.length === 0) return lots;
  const out: Lot[] = [];
  for (const l of lots) {
    let rem = l.remaining;
    for (const t of taken) if (t.lotId === l.id) rem -= t.points;
    if (rem > 0) out.push(rem === l.remaining ? l : { ...l, remaining: rem });
  }
  return out;
}

function addQualifying(q: readonly QualifyingEntry[], at: number, points: number): readonly QualifyingEntry[] {
  for (let i = q.length - 1; i >= 0; i--) {
    if (q[i].at === at) return replaceAt(q, i, { at, points: q[i].points + points });
  }
  return append(q, { at, points });
}
