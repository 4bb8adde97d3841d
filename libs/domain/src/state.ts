// Member state and `evolve`. The state is what `decide` needs and nothing more;
// it is rebuilt from the events alone (evolve never consults the programme).
// Instants are epoch seconds. A state handed to evolve is never modified: arrays are
// copied on write (readonly records), and lots and purchases are a LotList and a
// PurchaseList, which gain a record without a copy of the list (see append-list.ts).
//
// Qualifying points are not a list of their own while their purchase is open: an open
// purchase's qualifying points are its `earned − reversed`, at its `at`. Only when
// `compact` forgets a purchase (older than the de-duplication window) do its points move
// to `qualifying`, a flat list of (at, points) pairs. So a purchase adds one record and
// one lot to the state, and no qualifying entry.

import { LotList, PurchaseList } from './append-list';
import { EventEnvelope, LotTaken, MemberEvent } from './events';
import { toSeconds } from './time';

export interface Lot {
  readonly id: string;
  readonly remaining: number;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/**
 * Qualifying points of purchases no longer open (forgotten by `compact`), as flat pairs:
 * [at0, points0, at1, points1, …], `at` the purchase's occurredAt (epoch seconds).
 */
export type QualifyingPairs = readonly number[];

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

/** The remembered outcome of a redemption, a refused redemption or an adjustment, by idempotency key. */
export interface IdempotencyRecord {
  readonly key: string;
  readonly requestHash: string;
  /** Recording time, epoch seconds. */
  readonly at: number;
  readonly kind: 'redemption' | 'adjustment' | 'refusal';
  /** redemptionId or adjustmentId; for a refusal, the rejection code. */
  readonly ref: string;
  /** Points spent or adjusted; for a refusal, the points asked (0 when unknown). */
  readonly points: number;
  readonly available: number;
  readonly sequence: number;
  /** Refusals only: the rejection message, as first given. */
  readonly message?: string;
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
  readonly lots: LotList;
  /** Qualifying points of purchases no longer in `purchases` (see QualifyingPairs). */
  readonly qualifying: QualifyingPairs;
  /** In the order of their PurchaseMade events. */
  readonly purchases: PurchaseList;
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
  /**
   * When the current tier took effect (epoch seconds): the effectiveAt of the upgrade or the
   * as-of of the review that gave it; 0 for the first tier, or when not known.
   */
  readonly tierSince: number;
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
    lots: LotList.of(),
    qualifying: EMPTY,
    purchases: PurchaseList.of(),
    idempotency: EMPTY,
    birthdayMonth: 0,
    lastBirthdayYear: 0,
    referredBy: null,
    referees: EMPTY,
    lastReviewAt: 0,
    purchaseCount: 0,
    tierSince: 0,
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
  const lots = s.lots;
  for (let i = 0; i < lots.length; i++) sum += lots.field(i, 'remaining');
  return sum - s.debt;
}

/** Applies one event. Accepts a bare event or its envelope (only type and data are read). */
export function evolve(state: MemberState, e: MemberEvent | EventEnvelope): MemberState {
  const t = draftOf(state);
  apply(t, e as MemberEvent);
  return t;
}

/**
 * Applies a command's events (bare or envelopes) in order: the same state as folding
 * `evolve` over them, with one copy of the state (and of each list it changes) for the
 * whole batch instead of one per event. The input state is never modified.
 */
export function evolveAll(state: MemberState, events: readonly (MemberEvent | EventEnvelope)[]): MemberState {
  if (events.length === 0) return state;
  const t = draftOf(state);
  for (let i = 0; i < events.length; i++) apply(t, events[i] as MemberEvent);
  return t;
}

// The working copy is the new state itself: a plain record with initialState's shape,
// written in place while one evolve/evolveAll call applies its events (synchronously, so
// the bookkeeping below can live in the module). Appends to lots and purchases share the
// input state's storage (append-list.ts); other lists are copied on their first change
// (the input state's lists are shared until then and never written). A purchase this
// call appended is updated in place (no list but the draft's sees it); a purchase of the
// input state is changed in a copy of the list, and then every purchase of that copy is
// the draft's own.
type Draft = { -readonly [K in keyof MemberState]: MemberState[K] } & {
  qualifying: number[];
  idempotency: IdempotencyRecord[];
  referees: string[];
};
/** Which arrays are the current draft's own copies (writable). */
let idempotencyOwn = false;
let refereesOwn = false;
/** Purchases at this index and beyond were appended by the current draft (writable in place). */
let freshFrom = 0;
/** Whether the draft's purchases are a copy it made (every purchase writable in place). */
let purchasesOwn = false;

function draftOf(s: MemberState): Draft {
  idempotencyOwn = refereesOwn = purchasesOwn = false;
  freshFrom = s.purchases.length;
  return {
    memberId: s.memberId,
    enrolled: s.enrolled,
    sequence: s.sequence,
    tier: s.tier,
    earned: s.earned,
    redeemed: s.redeemed,
    expired: s.expired,
    reversed: s.reversed,
    adjusted: s.adjusted,
    debt: s.debt,
    lots: s.lots,
    qualifying: s.qualifying as number[],
    purchases: s.purchases,
    idempotency: s.idempotency as IdempotencyRecord[],
    birthdayMonth: s.birthdayMonth,
    lastBirthdayYear: s.lastBirthdayYear,
    referredBy: s.referredBy,
    referees: s.referees as string[],
    lastReviewAt: s.lastReviewAt,
    purchaseCount: s.purchaseCount,
    tierSince: s.tierSince,
  };
}

function availableOf(t: Draft): number {
  return t.earned - t.redeemed - t.expired - t.reversed + t.adjusted;
}

/** Whether the draft may write the purchase at i in place; a change of one it may not copies the list. */
function writable(i: number): boolean {
  return purchasesOwn || i >= freshFrom;
}

/** Notes that t.purchases changed from `before`: a copy, when the purchase was not writable in place. */
function changed(t: Draft, before: PurchaseList): void {
  if (t.purchases !== before) purchasesOwn = true;
}

function remember(t: Draft, r: IdempotencyRecord): void {
  if (idempotencyOwn) t.idempotency.push(r);
  else {
    t.idempotency = append(t.idempotency, r);
    idempotencyOwn = true;
  }
}

function apply(t: Draft, event: MemberEvent): void {
  const sequence = ++t.sequence;
  switch (event.type) {
    case 'MemberEnrolled': {
      const d = event.data;
      t.enrolled = true;
      t.tier = d.tier;
      t.birthdayMonth = d.birthday ? +d.birthday.slice(5, 7) : 0;
      t.referredBy = d.referredBy ?? null;
      return;
    }
    case 'PurchaseMade': {
      const d = event.data;
      t.purchases = t.purchases.appendNew(d.purchaseId, toSeconds(d.occurredAt), d.amount, sequence);
      t.purchaseCount++;
      return;
    }
    case 'PointsEarned': {
      const d = event.data;
      const repaid = d.repaid ?? 0;
      const open = d.points - repaid;
      const cause = d.cause;
      if ((cause === 'purchase' || cause === 'promotion') && d.purchaseId !== undefined) {
        // The purchase's qualifying points are its earned − reversed: nothing else to record.
        const i = findPurchase(t.purchases, d.purchaseId);
        if (i >= 0) {
          const before = t.purchases;
          t.purchases = before.withEarned(i, d.points, d.programVersion, writable(i));
          changed(t, before);
        }
      } else if (cause === 'birthday' && d.birthdayYear !== undefined) {
        t.lastBirthdayYear = Math.max(t.lastBirthdayYear, d.birthdayYear);
      } else if (cause === 'referral' && d.refereeId !== undefined) {
        if (refereesOwn) t.referees.push(d.refereeId);
        else {
          t.referees = append(t.referees, d.refereeId);
          refereesOwn = true;
        }
      }
      t.earned += d.points;
      t.debt -= repaid;
      if (open > 0) t.lots = t.lots.appendLot(d.lotId, open, toSeconds(d.expiresAt));
      return;
    }
    case 'TierChanged': {
      const d = event.data;
      t.tier = d.to;
      if (d.reason === 'review' && d.asOf) t.lastReviewAt = toSeconds(d.asOf);
      const since = d.effectiveAt ?? d.asOf;
      t.tierSince = since ? toSeconds(since) : 0;
      return;
    }
    case 'RewardRedeemed': {
      const d = event.data;
      t.redeemed += d.points;
      t.lots = t.lots.take(d.lots);
      if (d.idempotencyKey !== undefined) {
        remember(t, {
          key: d.idempotencyKey,
          requestHash: d.requestHash ?? '',
          at: d.recordedAt ? toSeconds(d.recordedAt) : 0,
          kind: 'redemption',
          ref: d.redemptionId,
          points: d.points,
          available: availableOf(t),
          sequence,
        });
      }
      return;
    }
    case 'RedemptionRefused': {
      // No points move: the refusal is remembered as the answer to its idempotency key.
      const d = event.data;
      remember(t, {
        key: d.idempotencyKey,
        requestHash: d.requestHash,
        at: toSeconds(d.recordedAt),
        kind: 'refusal',
        ref: d.code,
        points: d.points ?? 0,
        available: d.available,
        sequence,
        message: d.message,
      });
      return;
    }
    case 'PurchaseRefunded': {
      const d = event.data;
      const i = findPurchase(t.purchases, d.purchaseId);
      if (i < 0) return;
      const before = t.purchases;
      t.purchases = before.withRefund(i, d.amount, d.refundId, writable(i));
      changed(t, before);
      return;
    }
    case 'PointsReversed': {
      const d = event.data;
      const taken = sumTaken(d.lots);
      const i = findPurchase(t.purchases, d.purchaseId);
      if (i >= 0) {
        const before = t.purchases;
        t.purchases = before.withReversed(i, d.points, writable(i));
        changed(t, before);
      }
      t.reversed += d.points;
      t.debt += d.points - taken;
      t.lots = t.lots.take(d.lots);
      return;
    }
    case 'PointsExpired': {
      const d = event.data;
      t.expired += d.points;
      t.lots = t.lots.take([{ lotId: d.lotId, points: d.points }]);
      return;
    }
    case 'PointsAdjusted': {
      const d = event.data;
      if (d.points >= 0) {
        const repaid = d.repaid ?? 0;
        const open = d.points - repaid;
        t.adjusted += d.points;
        t.debt -= repaid;
        if (open > 0 && d.lotId !== undefined && d.expiresAt !== undefined) t.lots = t.lots.appendLot(d.lotId, open, toSeconds(d.expiresAt));
      } else {
        const lots = d.lots ?? EMPTY;
        t.adjusted += d.points;
        t.debt += -d.points - sumTaken(lots);
        t.lots = t.lots.take(lots);
      }
      if (d.idempotencyKey !== undefined) {
        remember(t, {
          key: d.idempotencyKey,
          requestHash: d.requestHash ?? '',
          at: d.recordedAt ? toSeconds(d.recordedAt) : 0,
          kind: 'adjustment',
          ref: d.adjustmentId,
          points: d.points,
          available: availableOf(t),
          sequence,
        });
      }
      return;
    }
    case 'ReferralCompleted':
      t.referredBy = null;
      return;
    default:
      assertNever(event);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(x)}`);
}

export function findPurchase(purchases: PurchaseList, purchaseId: string): number {
  return purchases.indexOfId(purchaseId);
}

/** A copy of xs with x appended, allocated at its exact size (slice + push would over-allocate). */
function append<T>(xs: readonly T[], x: T): T[] {
  const n = xs.length;
  const out = new Array<T>(n + 1);
  for (let i = 0; i < n; i++) out[i] = xs[i];
  out[n] = x;
  return out;
}

function sumTaken(lots: readonly LotTaken[]): number {
  let s = 0;
  for (let i = 0; i < lots.length; i++) s += lots[i].points;
  return s;
}
