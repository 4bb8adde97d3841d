// Member state and `evolve`. The state is what `decide` needs and nothing more;
// it is rebuilt from the events alone (evolve never consults the programme).
// Instants are epoch seconds. A state handed to evolve is never modified: arrays are
// copied on write (readonly records), and lots and purchases are a LotList and a
// PurchaseList, which gain a record without a copy of the list (see append-list.ts).
// The fields a plain purchase leaves unchanged are in `rare`, a record shared between
// states until an event changes one of them (then copied): a purchase makes a state of
// 9 fields, not 21, and that object outlives the young generation (the ledger keeps it).
//
// Qualifying points are not a list of their own while their purchase is open: an open
// purchase's qualifying points are its `earned − reversed`, at its `at`. Only when
// `compact` forgets a purchase (older than the de-duplication window) do its points move
// to `qualifying`, a flat list of (at, points) pairs. So a purchase adds one record and
// one lot to the state, and no qualifying entry.

import { LotList, PurchaseList } from './append-list';
import {
  EventEnvelope,
  LotTaken,
  MemberEnrolled,
  MemberEvent,
  PointsAdjusted,
  PointsEarned,
  PointsExpired,
  PointsReversed,
  PurchaseMade,
  PurchaseRefunded,
  RedemptionRefused,
  RewardRedeemed,
  TierChanged,
} from './events';
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
  readonly purchaseCount: number;
  /** Oldest first. */
  readonly lots: LotList;
  /** In the order of their PurchaseMade events. */
  readonly purchases: PurchaseList;
  /**
   * What a plain purchase leaves unchanged, in a record of its own: states share it until
   * an event changes one of its fields, so the state a purchase makes (a new object per
   * purchase, kept until the member's next one) is half the size.
   */
  readonly rare: RareFields;
}

export interface RareFields {
  readonly redeemed: number;
  readonly expired: number;
  readonly reversed: number;
  /** Signed sum of adjustments. */
  readonly adjusted: number;
  /** Points owed (a negative balance); later earnings repay it first. Lots are empty while > 0. */
  readonly debt: number;
  /** Qualifying points of purchases no longer in `purchases` (see QualifyingPairs). */
  readonly qualifying: QualifyingPairs;
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
  /**
   * When the current tier took effect (epoch seconds): the effectiveAt of the upgrade or the
   * as-of of the review that gave it; 0 for the first tier, or when not known.
   */
  readonly tierSince: number;
}

/** The fields of a state, flat (deserialisation and tests: `flatToState`, `withFields`). */
export type FlatState = Omit<MemberState, 'rare'> & RareFields;

export function initialState(memberId: string): MemberState {
  return stateOf(memberId, false, 0, '', 0, 0, LotList.of(), PurchaseList.of(), INITIAL_RARE);
}

/** Every state is made here, so all have one shape (one hidden class for the engine). */
function stateOf(
  memberId: string,
  enrolled: boolean,
  sequence: number,
  tier: string,
  earned: number,
  purchaseCount: number,
  lots: LotList,
  purchases: PurchaseList,
  rare: RareFields,
): MemberState {
  return { memberId, enrolled, sequence, tier, earned, purchaseCount, lots, purchases, rare };
}

/** A state from its fields, flat (deserialisation, tests). */
export function flatToState(f: FlatState): MemberState {
  return stateOf(f.memberId, f.enrolled, f.sequence, f.tier, f.earned, f.purchaseCount, f.lots, f.purchases, rareOf(f));
}

/** The state's fields, flat. */
function stateToFlat(s: MemberState): FlatState {
  const r = s.rare;
  return {
    memberId: s.memberId,
    enrolled: s.enrolled,
    sequence: s.sequence,
    tier: s.tier,
    earned: s.earned,
    purchaseCount: s.purchaseCount,
    lots: s.lots,
    purchases: s.purchases,
    ...rareOf(r),
  };
}

/** s with some fields replaced (any of them, rare or not). */
export function withFields(s: MemberState, changes: Partial<FlatState>): MemberState {
  return flatToState({ ...stateToFlat(s), ...changes });
}

/** s with other purchases, qualifying pairs and idempotency records (what `compact` changes). */
export function withForgotten(s: MemberState, purchases: PurchaseList, qualifying: QualifyingPairs, idempotency: readonly IdempotencyRecord[]): MemberState {
  let rare = s.rare;
  if (qualifying !== rare.qualifying || idempotency !== rare.idempotency) {
    const copy: Writable<RareFields> = rareOf(rare); // a literal of rareOf's shape, not a spread's
    copy.qualifying = qualifying;
    copy.idempotency = idempotency;
    rare = copy;
  }
  return stateOf(s.memberId, s.enrolled, s.sequence, s.tier, s.earned, s.purchaseCount, s.lots, purchases, rare);
}

function rareOf(r: RareFields): RareFields {
  return {
    redeemed: r.redeemed,
    expired: r.expired,
    reversed: r.reversed,
    adjusted: r.adjusted,
    debt: r.debt,
    qualifying: r.qualifying,
    idempotency: r.idempotency,
    birthdayMonth: r.birthdayMonth,
    lastBirthdayYear: r.lastBirthdayYear,
    referredBy: r.referredBy,
    referees: r.referees,
    lastReviewAt: r.lastReviewAt,
    tierSince: r.tierSince,
  };
}

const EMPTY: readonly never[] = Object.freeze([]);

/** The rare fields of every new member (shared, never written; not frozen, so that it has the shape of every other). */
const INITIAL_RARE: RareFields = {
  redeemed: 0,
  expired: 0,
  reversed: 0,
  adjusted: 0,
  debt: 0,
  qualifying: EMPTY,
  idempotency: EMPTY,
  birthdayMonth: 0,
  lastBirthdayYear: 0,
  referredBy: null,
  referees: EMPTY,
  lastReviewAt: 0,
  tierSince: 0,
};

/** available = earned − redeemed − expired − reversed + adjusted */
export function available(s: MemberState): number {
  const r = s.rare;
  return s.earned - r.redeemed - r.expired - r.reversed + r.adjusted;
}

/** Sum of lots remaining minus debt; always equals `available` (a checked invariant). */
export function lotsBalance(s: MemberState): number {
  let sum = 0;
  const lots = s.lots;
  for (let i = 0; i < lots.length; i++) sum += lots.field(i, 'remaining');
  return sum - s.rare.debt;
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
// the bookkeeping below can live in the module). Its rare fields are the input state's
// record until an event changes one: then a copy, the draft's own. Appends to lots and
// purchases share the input state's storage (append-list.ts); other lists are copied on
// their first change (the input state's lists are shared until then and never written).
// A purchase this call appended is updated in place (no list but the draft's sees it); a
// purchase of the input state is changed in a copy of the list, and then every purchase
// of that copy is the draft's own.
type Writable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Writable<MemberState>;
type DraftRare = Writable<RareFields> & {
  qualifying: number[];
  idempotency: IdempotencyRecord[];
  referees: string[];
};
/** Whether the draft's rare fields are its own copy, and which of its arrays are (writable). */
let rareOwn = false;
let idempotencyOwn = false;
let refereesOwn = false;
/** Purchases at this index and beyond were appended by the current draft (writable in place). */
let freshFrom = 0;
/** Whether the draft's purchases are a copy it made (every purchase writable in place). */
let purchasesOwn = false;

function draftOf(s: MemberState): Draft {
  rareOwn = idempotencyOwn = refereesOwn = purchasesOwn = false;
  freshFrom = s.purchases.length;
  return stateOf(s.memberId, s.enrolled, s.sequence, s.tier, s.earned, s.purchaseCount, s.lots, s.purchases, s.rare);
}

/** The draft's rare fields, to write: copied from the input state's on the first write. */
function rareFor(t: Draft): DraftRare {
  if (!rareOwn) {
    t.rare = rareOf(t.rare);
    rareOwn = true;
  }
  return t.rare as DraftRare;
}

/** Whether the draft may write the purchase at i in place; a change of one it may not copies the list. */
function writable(i: number): boolean {
  return purchasesOwn || i >= freshFrom;
}

/** Notes that t.purchases changed from `before`: a copy, when the purchase was not writable in place. */
function changed(t: Draft, before: PurchaseList): void {
  if (t.purchases !== before) purchasesOwn = true;
}

function remember(t: Draft, rec: IdempotencyRecord): void {
  const r = rareFor(t);
  if (idempotencyOwn) r.idempotency.push(rec);
  else {
    r.idempotency = append(r.idempotency, rec);
    idempotencyOwn = true;
  }
}

function apply(t: Draft, event: MemberEvent): void {
  const sequence = ++t.sequence;
  // One function per event: the optimiser compiles a purchase's two (PurchaseMade,
  // PointsEarned) with their list appends inlined; one body holding every case ran out of
  // its inlining budget first (appendNew and findPurchase were left as calls).
  switch (event.type) {
    case 'MemberEnrolled':
      return onMemberEnrolled(t, event.data);
    case 'PurchaseMade':
      return onPurchaseMade(t, event.data, sequence);
    case 'PointsEarned':
      return onPointsEarned(t, event.data);
    case 'TierChanged':
      return onTierChanged(t, event.data);
    case 'RewardRedeemed':
      return onRewardRedeemed(t, event.data, sequence);
    case 'RedemptionRefused':
      return onRedemptionRefused(t, event.data, sequence);
    case 'PurchaseRefunded':
      return onPurchaseRefunded(t, event.data);
    case 'PointsReversed':
      return onPointsReversed(t, event.data);
    case 'PointsExpired':
      return onPointsExpired(t, event.data);
    case 'PointsAdjusted':
      return onPointsAdjusted(t, event.data, sequence);
    case 'ReferralCompleted':
      rareFor(t).referredBy = null;
      return;
    default:
      assertNever(event);
  }
}

function onMemberEnrolled(t: Draft, d: MemberEnrolled['data']): void {
  t.enrolled = true;
  t.tier = d.tier;
  const birthdayMonth = d.birthday ? +d.birthday.slice(5, 7) : 0;
  const referredBy = d.referredBy ?? null;
  if (birthdayMonth !== t.rare.birthdayMonth || referredBy !== t.rare.referredBy) {
    const r = rareFor(t);
    r.birthdayMonth = birthdayMonth;
    r.referredBy = referredBy;
  }
}

function onPurchaseMade(t: Draft, d: PurchaseMade['data'], sequence: number): void {
  t.purchases = t.purchases.appendNew(d.purchaseId, toSeconds(d.occurredAt), d.amount, sequence);
  t.purchaseCount++;
}

function onPointsEarned(t: Draft, d: PointsEarned['data']): void {
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
    const r = rareFor(t);
    r.lastBirthdayYear = Math.max(r.lastBirthdayYear, d.birthdayYear);
  } else if (cause === 'referral' && d.refereeId !== undefined) {
    const r = rareFor(t);
    if (refereesOwn) r.referees.push(d.refereeId);
    else {
      r.referees = append(r.referees, d.refereeId);
      refereesOwn = true;
    }
  }
  t.earned += d.points;
  if (repaid !== 0) rareFor(t).debt -= repaid;
  if (open > 0) t.lots = t.lots.appendLot(d.lotId, open, toSeconds(d.expiresAt));
}

function onTierChanged(t: Draft, d: TierChanged['data']): void {
  t.tier = d.to;
  const r = rareFor(t);
  if (d.reason === 'review' && d.asOf) r.lastReviewAt = toSeconds(d.asOf);
  const since = d.effectiveAt ?? d.asOf;
  r.tierSince = since ? toSeconds(since) : 0;
}

function onRewardRedeemed(t: Draft, d: RewardRedeemed['data'], sequence: number): void {
  rareFor(t).redeemed += d.points;
  t.lots = t.lots.take(d.lots);
  if (d.idempotencyKey !== undefined) {
    remember(t, {
      key: d.idempotencyKey,
      requestHash: d.requestHash ?? '',
      at: d.recordedAt ? toSeconds(d.recordedAt) : 0,
      kind: 'redemption',
      ref: d.redemptionId,
      points: d.points,
      available: available(t),
      sequence,
    });
  }
}

function onRedemptionRefused(t: Draft, d: RedemptionRefused['data'], sequence: number): void {
  // No points move: the refusal is remembered as the answer to its idempotency key.
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
}

function onPurchaseRefunded(t: Draft, d: PurchaseRefunded['data']): void {
  const i = findPurchase(t.purchases, d.purchaseId);
  if (i < 0) return;
  const before = t.purchases;
  t.purchases = before.withRefund(i, d.amount, d.refundId, writable(i));
  changed(t, before);
}

function onPointsReversed(t: Draft, d: PointsReversed['data']): void {
  const taken = sumTaken(d.lots);
  const i = findPurchase(t.purchases, d.purchaseId);
  if (i >= 0) {
    const before = t.purchases;
    t.purchases = before.withReversed(i, d.points, writable(i));
    changed(t, before);
  }
  const r = rareFor(t);
  r.reversed += d.points;
  r.debt += d.points - taken;
  t.lots = t.lots.take(d.lots);
}

function onPointsExpired(t: Draft, d: PointsExpired['data']): void {
  rareFor(t).expired += d.points;
  t.lots = t.lots.take([{ lotId: d.lotId, points: d.points }]);
}

function onPointsAdjusted(t: Draft, d: PointsAdjusted['data'], sequence: number): void {
  const r = rareFor(t);
  if (d.points >= 0) {
    const repaid = d.repaid ?? 0;
    const open = d.points - repaid;
    r.adjusted += d.points;
    r.debt -= repaid;
    if (open > 0 && d.lotId !== undefined && d.expiresAt !== undefined) t.lots = t.lots.appendLot(d.lotId, open, toSeconds(d.expiresAt));
  } else {
    const lots = d.lots ?? EMPTY;
    r.adjusted += d.points;
    r.debt += -d.points - sumTaken(lots);
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
      available: available(t),
      sequence,
    });
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
