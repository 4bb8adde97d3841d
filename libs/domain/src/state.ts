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
  for (const l of s.lots) sum += l.remaining;
  return sum - s.debt;
}

/** Applies one event. Accepts a bare event or its envelope (only type and data are read). */
export function evolve(state: MemberState, e: MemberEvent | EventEnvelope): MemberState {
  const d = new Draft(state);
  d.apply(e as MemberEvent);
  return d.done();
}

/**
 * Applies a command's events (bare or envelopes) in order: the same state as folding
 * `evolve` over them, with one copy of the state (and of each list it changes) for the
 * whole batch instead of one per event. The input state is never modified.
 */
export function evolveAll(state: MemberState, events: readonly (MemberEvent | EventEnvelope)[]): MemberState {
  if (events.length === 0) return state;
  const d = new Draft(state);
  for (let i = 0; i < events.length; i++) d.apply(events[i] as MemberEvent);
  return d.done();
}

/**
 * A mutable working copy of a state, private to evolve/evolveAll. Lists are copied on
 * their first change (the input state's lists are shared until then and never written),
 * and records created by this batch are updated in place; records of the input state
 * are replaced, never mutated.
 */
class Draft {
  memberId: string;
  enrolled: boolean;
  sequence: number;
  tier: string;
  earned: number;
  redeemed: number;
  expired: number;
  reversed: number;
  adjusted: number;
  debt: number;
  lots: Lot[];
  qualifying: QualifyingEntry[];
  purchases: OpenPurchase[];
  idempotency: IdempotencyRecord[];
  birthdayMonth: number;
  lastBirthdayYear: number;
  referredBy: string | null;
  referees: string[];
  lastReviewAt: number;
  purchaseCount: number;
  tierSince: number;
  // Which lists are this draft's own copies (writable).
  private lotsOwn = false;
  private qualifyingOwn = false;
  private purchasesOwn = false;
  private idempotencyOwn = false;
  private refereesOwn = false;
  /** Purchase records created by this draft (writable in place); rarely more than one. */
  private fresh: OpenPurchase[] | null = null;

  constructor(s: MemberState) {
    this.memberId = s.memberId;
    this.enrolled = s.enrolled;
    this.sequence = s.sequence;
    this.tier = s.tier;
    this.earned = s.earned;
    this.redeemed = s.redeemed;
    this.expired = s.expired;
    this.reversed = s.reversed;
    this.adjusted = s.adjusted;
    this.debt = s.debt;
    this.lots = s.lots as Lot[];
    this.qualifying = s.qualifying as QualifyingEntry[];
    this.purchases = s.purchases as OpenPurchase[];
    this.idempotency = s.idempotency as IdempotencyRecord[];
    this.birthdayMonth = s.birthdayMonth;
    this.lastBirthdayYear = s.lastBirthdayYear;
    this.referredBy = s.referredBy;
    this.referees = s.referees as string[];
    this.lastReviewAt = s.lastReviewAt;
    this.purchaseCount = s.purchaseCount;
    this.tierSince = s.tierSince;
  }

  /** The resulting state: a plain record with the same shape (and key order) as initialState's. */
  done(): MemberState {
    return {
      memberId: this.memberId,
      enrolled: this.enrolled,
      sequence: this.sequence,
      tier: this.tier,
      earned: this.earned,
      redeemed: this.redeemed,
      expired: this.expired,
      reversed: this.reversed,
      adjusted: this.adjusted,
      debt: this.debt,
      lots: this.lots,
      qualifying: this.qualifying,
      purchases: this.purchases,
      idempotency: this.idempotency,
      birthdayMonth: this.birthdayMonth,
      lastBirthdayYear: this.lastBirthdayYear,
      referredBy: this.referredBy,
      referees: this.referees,
      lastReviewAt: this.lastReviewAt,
      purchaseCount: this.purchaseCount,
      tierSince: this.tierSince,
    };
  }

  private available(): number {
    return this.earned - this.redeemed - this.expired - this.reversed + this.adjusted;
  }

  private ownPurchases(): OpenPurchase[] {
    if (!this.purchasesOwn) {
      this.purchases = this.purchases.slice();
      this.purchasesOwn = true;
    }
    return this.purchases;
  }


  /** A writable purchase record at index i (copied first unless this draft created it). */
  private purchaseAt(i: number): Mutable<OpenPurchase> {
    const purchases = this.ownPurchases();
    const p = purchases[i];
    if (this.fresh !== null && this.fresh.includes(p)) return p as Mutable<OpenPurchase>;
    const copy: OpenPurchase = {
      id: p.id,
      at: p.at,
      amount: p.amount,
      refunded: p.refunded,
      earned: p.earned,
      reversed: p.reversed,
      programVersion: p.programVersion,
      sequence: p.sequence,
      refundIds: p.refundIds,
    };
    purchases[i] = copy;
    (this.fresh ??= []).push(copy);
    return copy as Mutable<OpenPurchase>;
  }

  private addLot(id: string, remaining: number, expiresAt: number): void {
    const lot: Lot = { id, remaining, expiresAt };
    if (this.lotsOwn) this.lots.push(lot);
    else {
      this.lots = append(this.lots, lot);
      this.lotsOwn = true;
    }
  }

  /** Removes taken points from lots; lots that reach zero are dropped. */
  private takeLots(taken: readonly LotTaken[]): void {
    if (taken.length === 0) return;
    const lots = this.lots;
    const out: Lot[] = [];
    for (let i = 0; i < lots.length; i++) {
      const l = lots[i];
      let rem = l.remaining;
      for (let j = 0; j < taken.length; j++) if (taken[j].lotId === l.id) rem -= taken[j].points;
      if (rem > 0) out.push(rem === l.remaining ? l : { id: l.id, remaining: rem, expiresAt: l.expiresAt });
    }
    this.lots = out;
    this.lotsOwn = true;
  }

  private addQualifying(at: number, points: number): void {
    const q = this.qualifying;
    for (let i = q.length - 1; i >= 0; i--) {
      if (q[i].at === at) {
        if (!this.qualifyingOwn) {
          this.qualifying = q.slice();
          this.qualifyingOwn = true;
        }
        this.qualifying[i] = { at, points: q[i].points + points };
        return;
      }
    }
    if (this.qualifyingOwn) q.push({ at, points });
    else {
      this.qualifying = append(q, { at, points });
      this.qualifyingOwn = true;
    }
  }

  private remember(r: IdempotencyRecord): void {
    if (this.idempotencyOwn) this.idempotency.push(r);
    else {
      this.idempotency = append(this.idempotency, r);
      this.idempotencyOwn = true;
    }
  }

  apply(event: MemberEvent): void {
    const sequence = ++this.sequence;
    switch (event.type) {
      case 'MemberEnrolled': {
        const d = event.data;
        this.enrolled = true;
        this.tier = d.tier;
        this.birthdayMonth = d.birthday ? +d.birthday.slice(5, 7) : 0;
        this.referredBy = d.referredBy ?? null;
        return;
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
        if (this.purchasesOwn) this.purchases.push(p);
        else {
          this.purchases = append(this.purchases, p);
          this.purchasesOwn = true;
        }
        (this.fresh ??= []).push(p);
        this.purchaseCount++;
        return;
      }
      case 'PointsEarned': {
        const d = event.data;
        const repaid = d.repaid ?? 0;
        const open = d.points - repaid;
        if ((d.cause === 'purchase' || d.cause === 'promotion') && d.purchaseId !== undefined) {
          const i = findPurchase(this.purchases, d.purchaseId);
          if (i >= 0) {
            const p = this.purchaseAt(i);
            p.earned += d.points;
            p.programVersion = d.programVersion;
            this.addQualifying(p.at, d.points);
          }
        } else if (d.cause === 'birthday' && d.birthdayYear !== undefined) {
          this.lastBirthdayYear = Math.max(this.lastBirthdayYear, d.birthdayYear);
        } else if (d.cause === 'referral' && d.refereeId !== undefined) {
          if (this.refereesOwn) this.referees.push(d.refereeId);
          else {
            this.referees = append(this.referees, d.refereeId);
            this.refereesOwn = true;
          }
        }
        this.earned += d.points;
        this.debt -= repaid;
        if (open > 0) this.addLot(d.lotId, open, toSeconds(d.expiresAt));
        return;
      }
      case 'TierChanged': {
        const d = event.data;
        this.tier = d.to;
        if (d.reason === 'review' && d.asOf) this.lastReviewAt = toSeconds(d.asOf);
        const since = d.effectiveAt ?? d.asOf;
        this.tierSince = since ? toSeconds(since) : 0;
        return;
      }
      case 'RewardRedeemed': {
        const d = event.data;
        this.redeemed += d.points;
        this.takeLots(d.lots);
        if (d.idempotencyKey !== undefined) {
          this.remember({
            key: d.idempotencyKey,
            requestHash: d.requestHash ?? '',
            at: d.recordedAt ? toSeconds(d.recordedAt) : 0,
            kind: 'redemption',
            ref: d.redemptionId,
            points: d.points,
            available: this.available(),
            sequence,
          });
        }
        return;
      }
      case 'RedemptionRefused': {
        // No points move: the refusal is remembered as the answer to its idempotency key.
        const d = event.data;
        this.remember({
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
        const i = findPurchase(this.purchases, d.purchaseId);
        if (i < 0) return;
        const p = this.purchaseAt(i);
        p.refunded += d.amount;
        p.refundIds = append(p.refundIds, d.refundId);
        return;
      }
      case 'PointsReversed': {
        const d = event.data;
        const taken = sumTaken(d.lots);
        const i = findPurchase(this.purchases, d.purchaseId);
        if (i >= 0) {
          const p = this.purchaseAt(i);
          p.reversed += d.points;
          this.addQualifying(p.at, -d.points);
        }
        this.reversed += d.points;
        this.debt += d.points - taken;
        this.takeLots(d.lots);
        return;
      }
      case 'PointsExpired': {
        const d = event.data;
        this.expired += d.points;
        this.takeLots([d]);
        return;
      }
      case 'PointsAdjusted': {
        const d = event.data;
        if (d.points >= 0) {
          const repaid = d.repaid ?? 0;
          const open = d.points - repaid;
          this.adjusted += d.points;
          this.debt -= repaid;
          if (open > 0 && d.lotId !== undefined && d.expiresAt !== undefined) this.addLot(d.lotId, open, toSeconds(d.expiresAt));
        } else {
          const lots = d.lots ?? EMPTY;
          this.adjusted += d.points;
          this.debt += -d.points - sumTaken(lots);
          this.takeLots(lots);
        }
        if (d.idempotencyKey !== undefined) {
          this.remember({
            key: d.idempotencyKey,
            requestHash: d.requestHash ?? '',
            at: d.recordedAt ? toSeconds(d.recordedAt) : 0,
            kind: 'adjustment',
            ref: d.adjustmentId,
            points: d.points,
            available: this.available(),
            sequence,
          });
        }
        return;
      }
      case 'ReferralCompleted':
        this.referredBy = null;
        return;
      default:
        assertNever(event);
    }
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function assertNever(x: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(x)}`);
}

export function findPurchase(purchases: readonly OpenPurchase[], purchaseId: string): number {
  for (let i = purchases.length - 1; i >= 0; i--) if (purchases[i].id === purchaseId) return i;
  return -1;
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
