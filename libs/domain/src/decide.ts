// The decider: decide(command, state, programme) -> events | rejection.
// Pure: time comes from command.metadata.now, ids are derived from the command.
// Every window (de-duplication, refunds, qualifying) is applied here explicitly, so
// `compact` (which only forgets what no decision can use any more) never changes
// a decision.

import { LotList } from './append-list';
import {
  AdjustPoints,
  CreditReferral,
  EnrolMember,
  ExpirePoints,
  MemberCommand,
  RecordPurchase,
  RedeemPoints,
  RefundPurchase,
  ReviewTier,
} from './commands';
import { EarnCause, LotTaken, MemberEvent, PointsEarned, PointsExpired, PurchaseMade, RedemptionRefusalCode, RedemptionRefused } from './events';
import { hash53, lotIdFor, uuidFrom } from './ids';
import { BP, Programme, findReward, tierIndexFor, tierIndexOf } from './programme';
import { IdempotencyRecord, MemberState, assertNever, available, findPurchase, withForgotten } from './state';
import { DAY_S, addMonthsSeconds, expiryIso, parseInstant, parseNow } from './time';

export type RejectionCode =
  | 'invalid-command'
  | 'not-enrolled'
  | 'already-enrolled'
  | 'invalid-referral'
  | 'wrong-currency'
  | 'purchase-too-old'
  | 'purchase-in-future'
  | 'unknown-purchase'
  | 'refund-exceeds-remaining'
  | 'unknown-reward'
  | 'insufficient-points'
  | 'idempotency-conflict';

export interface Rejection {
  readonly code: RejectionCode;
  readonly message: string;
}

/** What the first, identical command produced; returned with no events for a repeat. */
export type DuplicateOf =
  | { readonly kind: 'purchase'; readonly purchaseId: string; readonly sequence: number }
  | { readonly kind: 'refund'; readonly refundId: string; readonly purchaseId: string }
  | {
      readonly kind: 'redemption';
      readonly redemptionId: string;
      readonly pointsSpent: number;
      readonly available: number;
      readonly sequence: number;
    }
  | {
      readonly kind: 'adjustment';
      readonly adjustmentId: string;
      readonly points: number;
      readonly available: number;
      readonly sequence: number;
    }
  | { readonly kind: 'referral'; readonly refereeId: string }
  | { readonly kind: 'review'; readonly asOf: string };

/**
 * What `decide` answers. `ok` says whether there are events to append (`events`, maybe
 * none); the caller's answer is a rejection when `ok` is false, and also when the decision
 * carries a `refusal`: a rejection the ledger records (RedemptionRefused) so that a repeat
 * of the command gets the same answer. Use `rejectionOf` for the answer.
 */
export type Decision =
  | { readonly ok: true; readonly events: readonly MemberEvent[]; readonly duplicateOf?: DuplicateOf; readonly refusal?: undefined }
  | { readonly ok: true; readonly events: readonly MemberEvent[]; readonly refusal: Rejection; readonly duplicateOf?: undefined }
  | { readonly ok: false; readonly rejection: Rejection };

/** The rejection the caller gets, whether recorded (a refusal, with its events) or not; undefined when accepted. */
export function rejectionOf(d: Decision): Rejection | undefined {
  return d.ok ? d.refusal : d.rejection;
}

const NOTHING: readonly MemberEvent[] = Object.freeze([]);

function reject(code: RejectionCode, message: string): Decision {
  return { ok: false, rejection: { code, message } };
}
function duplicate(duplicateOf: DuplicateOf): Decision {
  return { ok: true, events: NOTHING, duplicateOf };
}

/** floor(a × b / c) for non-negative integers, exact beyond 2^53. */
export function mulDiv(a: number, b: number, c: number): number {
  const p = a * b;
  if (p <= Number.MAX_SAFE_INTEGER) return Math.floor(p / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

export function decide(command: MemberCommand, state: MemberState, programme: Programme): Decision {
  const nowMs = parseNow(command.metadata.now);
  if (Number.isNaN(nowMs)) return reject('invalid-command', 'metadata.now must be an ISO 8601 instant with offset');
  switch (command.type) {
    case 'EnrolMember':
      return enrol(command, state, programme, nowMs);
    case 'RecordPurchase':
      return purchase(command, state, programme, nowMs);
    case 'RefundPurchase':
      return refund(command, state, programme, nowMs);
    case 'RedeemPoints':
      return redeem(command, state, programme, nowMs);
    case 'AdjustPoints':
      return adjust(command, state, programme, nowMs);
    case 'ExpirePoints':
      return expire(command, state, nowMs);
    case 'ReviewTier':
      return review(command, state, programme, nowMs);
    case 'CreditReferral':
      return creditReferral(command, state, programme, nowMs);
    default:
      return assertNever(command);
  }
}

/** Collects a command's events; tracks the sequence and the debt as events are added. */
class Out {
  readonly events: MemberEvent[] = [];
  debt: number;
  constructor(
    readonly state: MemberState,
    readonly programme: Programme,
    readonly nowS: number,
  ) {
    this.debt = state.rare.debt;
  }
  nextSequence(): number {
    return this.state.sequence + this.events.length + 1;
  }
  expiresAt(): string {
    return expiryIso(this.nowS, this.programme.expiryMonths);
  }
  earn(points: number, cause: EarnCause, extra?: Partial<PointsEarned['data']>, programVersion = this.programme.version): void {
    if (points <= 0) return;
    const repaid = Math.min(this.debt, points);
    this.debt -= repaid;
    const lotId = lotIdFor(this.nextSequence());
    const expiresAt = this.expiresAt();
    let data: PointsEarned['data'];
    if (extra === undefined) {
      data = repaid > 0 ? { points, cause, lotId, expiresAt, programVersion, repaid } : { points, cause, lotId, expiresAt, programVersion };
    } else {
      data = { points, cause, ...extra, lotId, expiresAt, programVersion };
      if (repaid > 0) data = { ...data, repaid };
    }
    this.events.push({ type: 'PointsEarned', data });
  }
  /** earn(points, 'purchase', { purchaseId }) without the spread (the hot path). */
  earnPurchase(points: number, purchaseId: string): void {
    if (points <= 0) return;
    const repaid = Math.min(this.debt, points);
    this.debt -= repaid;
    const lotId = lotIdFor(this.nextSequence());
    const expiresAt = this.expiresAt();
    const programVersion = this.programme.version;
    const data: PointsEarned['data'] =
      repaid > 0
        ? { points, cause: 'purchase', purchaseId, lotId, expiresAt, programVersion, repaid }
        : { points, cause: 'purchase', purchaseId, lotId, expiresAt, programVersion };
    this.events.push({ type: 'PointsEarned', data });
  }
}

function enrolledEvent(
  out: Out,
  source: 'api' | 'purchase',
  extra: { name?: string; email?: string; birthday?: string; referredBy?: string } = {},
): void {
  out.events.push({ type: 'MemberEnrolled', data: { source, tier: out.programme.tiers[0].name, ...extra } });
  out.earn(out.programme.welcomeBonus, 'welcome');
}

function enrol(c: EnrolMember, s: MemberState, p: Programme, nowMs: number): Decision {
  if (s.enrolled) return reject('already-enrolled', `member ${c.data.memberId} is already enrolled`);
  const d = c.data;
  if (d.referredBy !== undefined && d.referredBy === d.memberId) return reject('invalid-referral', 'a member cannot refer themselves');
  const out = new Out(s, p, Math.floor(nowMs / 1000));
  const extra: { name?: string; email?: string; birthday?: string; referredBy?: string } = {};
  if (d.name !== undefined) extra.name = d.name;
  if (d.email !== undefined) extra.email = d.email;
  if (d.birthday !== undefined) extra.birthday = d.birthday;
  if (d.referredBy !== undefined) extra.referredBy = d.referredBy;
  enrolledEvent(out, 'api', extra);
  return { ok: true, events: out.events };
}

/**
 * Sum of qualifying points whose instant lies in (end − window, end]: those of open
 * purchases (earned − reversed) and those `compact` moved to `qualifying`.
 */
export function qualifyingPoints(s: MemberState, p: Programme, endS: number): number {
  const from = endS - p.qualifyingWindowDays * DAY_S;
  let q = s.purchases.qualifying(from, endS);
  const qs = s.rare.qualifying;
  for (let i = 0; i < qs.length; i += 2) {
    const at = qs[i];
    if (at > from && at <= endS) q += qs[i + 1];
  }
  return q;
}

/** The PurchaseMade data of a purchase (one literal per shape, key order as published). */
function purchaseMadeData(d: RecordPurchase['data'], recordedAt: string): PurchaseMade['data'] {
  const { purchaseId, amount, currency, occurredAt, channel, storeId } = d;
  if (channel !== undefined) {
    return storeId !== undefined
      ? { purchaseId, amount, currency, occurredAt, recordedAt, channel, storeId }
      : { purchaseId, amount, currency, occurredAt, recordedAt, channel };
  }
  return storeId !== undefined ? { purchaseId, amount, currency, occurredAt, recordedAt, storeId } : { purchaseId, amount, currency, occurredAt, recordedAt };
}

/** Year and month as written in a valid ISO instant (the member's local calendar). */
function writtenYear(iso: string): number {
  return (iso.charCodeAt(0) - 48) * 1000 + (iso.charCodeAt(1) - 48) * 100 + (iso.charCodeAt(2) - 48) * 10 + (iso.charCodeAt(3) - 48);
}
function writtenMonth(iso: string): number {
  return (iso.charCodeAt(5) - 48) * 10 + (iso.charCodeAt(6) - 48);
}

function purchase(c: RecordPurchase, s: MemberState, p: Programme, nowMs: number): Decision {
  const d = c.data;
  const occMs = parseInstant(d.occurredAt);
  if (Number.isNaN(occMs)) return reject('invalid-command', 'occurredAt must be an ISO 8601 instant with offset');
  if (!Number.isSafeInteger(d.amount) || d.amount <= 0) return reject('invalid-command', 'amount must be a positive integer');
  if (nowMs - occMs > p.dedupWindowDays * DAY_S * 1000) {
    return reject('purchase-too-old', `purchase ${d.purchaseId} occurred more than ${p.dedupWindowDays} days before it was recorded`);
  }
  // Only purchases inside the window count (what `compact` keeps), so a decision never
  // depends on whether the state was compacted.
  const i = findPurchase(s.purchases, d.purchaseId);
  if (i >= 0 && s.purchases.field(i, 'at') >= Math.floor(nowMs / 1000) - p.dedupWindowDays * DAY_S) {
    return duplicate({ kind: 'purchase', purchaseId: d.purchaseId, sequence: s.purchases.field(i, 'sequence') });
  }
  if (d.currency !== p.currency) return reject('wrong-currency', `currency must be ${p.currency}, got ${d.currency}`);
  if (occMs - nowMs > p.futureToleranceHours * 3_600_000) {
    return reject('purchase-in-future', `purchase ${d.purchaseId} occurs more than ${p.futureToleranceHours} hours after it was recorded`);
  }
  const nowS = Math.floor(nowMs / 1000);
  // The common case (no promotion, no bonus due, no referral pending) without the
  // general collector, for a member enrolled or enrolled by this purchase.
  if (
    (s.enrolled || p.autoEnroll) &&
    p.promotions.length === 0 &&
    s.rare.referredBy === null &&
    !(s.rare.birthdayMonth > 0 && p.birthdayBonus > 0 && writtenMonth(d.occurredAt) === s.rare.birthdayMonth && writtenYear(d.occurredAt) > s.rare.lastBirthdayYear)
  ) {
    return directPurchase(c, s, p, occMs, nowS);
  }
  const out = new Out(s, p, nowS);
  let tier = s.tier;
  if (!s.enrolled) {
    if (!p.autoEnroll) return reject('not-enrolled', `member ${d.memberId} is not enrolled`);
    enrolledEvent(out, 'purchase');
    tier = p.tiers[0].name;
  }
  out.events.push({ type: 'PurchaseMade', data: purchaseMadeData(d, c.metadata.now) });

  // Earn at the tier held before this purchase.
  const tierIdx = tierIndexOf(p, tier);
  const base = mulDiv(d.amount, p.earn.points, p.earn.perMinorUnits);
  const earned = mulDiv(base, p.tiers[tierIdx].multiplierBp, BP);
  out.earnPurchase(earned, d.purchaseId);
  let qualifying = earned;

  for (let pi = 0; pi < p.promotions.length; pi++) {
    const promo = p.promotions[pi];
    if (occMs < promo.fromMs || occMs >= promo.toMs) continue;
    if (promo.channels !== undefined && (d.channel === undefined || !promo.channels.includes(d.channel))) continue;
    if (promo.minAmount !== undefined && d.amount < promo.minAmount) continue;
    let eligible = d.amount;
    if (promo.categories !== undefined) {
      eligible = 0;
      for (const it of d.items ?? []) if (promo.categories.includes(it.category)) eligible += it.quantity * it.unitPrice;
      eligible = Math.min(eligible, d.amount);
      if (eligible <= 0) continue;
    }
    let pts = promo.bonusPoints ?? 0;
    if (promo.multiplierBp !== undefined) pts += mulDiv(mulDiv(eligible, p.earn.points, p.earn.perMinorUnits), promo.multiplierBp - BP, BP);
    out.earn(pts, 'promotion', { purchaseId: d.purchaseId, promotionId: promo.id });
    qualifying += Math.max(0, pts);
  }

  if (s.rare.birthdayMonth > 0 && p.birthdayBonus > 0) {
    const year = writtenYear(d.occurredAt);
    if (writtenMonth(d.occurredAt) === s.rare.birthdayMonth && year > s.rare.lastBirthdayYear) {
      out.earn(p.birthdayBonus, 'birthday', { purchaseId: d.purchaseId, birthdayYear: year });
    }
  }

  if (s.rare.referredBy !== null) {
    out.earn(p.referral.referee, 'referral', { purchaseId: d.purchaseId, referrerId: s.rare.referredBy });
    out.events.push({ type: 'ReferralCompleted', data: { referrerId: s.rare.referredBy, refereeId: d.memberId, purchaseId: d.purchaseId } });
  }

  // Upgrade at once, straight to the highest tier reached.
  const occS = Math.floor(occMs / 1000);
  const q = qualifyingPoints(s, p, occS) + qualifying;
  const reached = tierIndexFor(p, q);
  if (reached > tierIdx) {
    out.events.push({ type: 'TierChanged', data: { from: tier, to: p.tiers[reached].name, reason: 'upgrade', effectiveAt: d.occurredAt } });
  }
  return { ok: true, events: out.events };
}

/**
 * The events of the general path (below) for a purchase with no promotion, no birthday
 * bonus due and no referral pending, built without its collector and at their final size
 * when the member is enrolled (a property checks the two paths agree, to the byte).
 */
function directPurchase(c: RecordPurchase, s: MemberState, p: Programme, occMs: number, nowS: number): Decision {
  const d = c.data;
  const enrols = !s.enrolled;
  const tier = enrols ? p.tiers[0].name : s.tier;
  const tierIdx = enrols ? 0 : tierIndexOf(p, tier);
  const earned = mulDiv(mulDiv(d.amount, p.earn.points, p.earn.perMinorUnits), p.tiers[tierIdx].multiplierBp, BP);
  const reached = tierIndexFor(p, qualifyingPoints(s, p, Math.floor(occMs / 1000)) + earned);
  let sequence = s.sequence;
  let debt = s.rare.debt;
  let events: MemberEvent[];
  if (enrols) {
    events = [{ type: 'MemberEnrolled', data: { source: 'purchase', tier } }];
    sequence++;
    if (p.welcomeBonus > 0) {
      const repaid = Math.min(debt, p.welcomeBonus);
      debt -= repaid;
      events.push(pointsEarned(p.welcomeBonus, 'welcome', undefined, ++sequence, nowS, p, repaid));
    }
    events.push({ type: 'PurchaseMade', data: purchaseMadeData(d, c.metadata.now) });
    sequence++;
    if (earned > 0) events.push(pointsEarned(earned, 'purchase', d.purchaseId, ++sequence, nowS, p, Math.min(debt, earned)));
  } else {
    const made: MemberEvent = { type: 'PurchaseMade', data: purchaseMadeData(d, c.metadata.now) };
    events = earned > 0 ? [made, pointsEarned(earned, 'purchase', d.purchaseId, sequence + 2, nowS, p, Math.min(debt, earned))] : [made];
  }
  if (reached > tierIdx) {
    events.push({ type: 'TierChanged', data: { from: tier, to: p.tiers[reached].name, reason: 'upgrade', effectiveAt: d.occurredAt } });
  }
  return { ok: true, events };
}

/** A PointsEarned of a purchase (with its purchaseId) or a welcome bonus, as Out.earn writes it. */
function pointsEarned(points: number, cause: 'purchase' | 'welcome', purchaseId: string | undefined, sequence: number, nowS: number, p: Programme, repaid: number): MemberEvent {
  const lotId = lotIdFor(sequence);
  const expiresAt = expiryIso(nowS, p.expiryMonths);
  const programVersion = p.version;
  let data: PointsEarned['data'];
  if (purchaseId !== undefined) {
    data = repaid > 0 ? { points, cause, purchaseId, lotId, expiresAt, programVersion, repaid } : { points, cause, purchaseId, lotId, expiresAt, programVersion };
  } else {
    data = repaid > 0 ? { points, cause, lotId, expiresAt, programVersion, repaid } : { points, cause, lotId, expiresAt, programVersion };
  }
  return { type: 'PointsEarned', data };
}

function refund(c: RefundPurchase, s: MemberState, p: Programme, nowMs: number): Decision {
  const d = c.data;
  if (!Number.isSafeInteger(d.amount) || d.amount <= 0) return reject('invalid-command', 'amount must be a positive integer');
  const oldestS = Math.floor(nowMs / 1000) - p.dedupWindowDays * DAY_S;
  const ps = s.purchases;
  for (let j = 0; j < ps.length; j++) {
    if (ps.field(j, 'at') >= oldestS && ps.field(j, 'refundIds').includes(d.refundId)) return duplicate({ kind: 'refund', refundId: d.refundId, purchaseId: ps.field(j, 'id') });
  }
  if (d.currency !== p.currency) return reject('wrong-currency', `currency must be ${p.currency}, got ${d.currency}`);
  const i = findPurchase(s.purchases, d.purchaseId);
  const op = s.purchases.get(i);
  if (op === undefined || op.at < oldestS) {
    return reject('unknown-purchase', `purchase ${d.purchaseId} is unknown or no longer open to refunds (${p.dedupWindowDays} days)`);
  }
  const left = op.amount - op.refunded;
  if (d.amount > left) return reject('refund-exceeds-remaining', `refund of ${d.amount} exceeds the ${left} left unrefunded of purchase ${d.purchaseId}`);
  const out = new Out(s, p, Math.floor(nowMs / 1000));
  out.events.push({ type: 'PurchaseRefunded', data: { refundId: d.refundId, purchaseId: d.purchaseId, amount: d.amount } });
  // Cumulative pro rata on what the purchase actually earned, never recomputed.
  const points = mulDiv(op.earned, op.refunded + d.amount, op.amount) - op.reversed;
  if (points > 0) {
    out.events.push({
      type: 'PointsReversed',
      data: {
        points,
        purchaseId: d.purchaseId,
        refundId: d.refundId,
        programVersion: op.programVersion || p.version,
        lots: spendOldest(s.lots, points),
      },
    });
  }
  return { ok: true, events: out.events };
}

/** Takes up to `points` from the oldest lots first. */
export function spendOldest(lots: LotList, points: number): LotTaken[] {
  const taken: LotTaken[] = [];
  let left = points;
  for (let i = 0; i < lots.length; i++) {
    if (left <= 0) break;
    const t = Math.min(lots.field(i, 'remaining'), left);
    taken.push({ lotId: lots.field(i, 'id'), points: t });
    left -= t;
  }
  return taken;
}

function findIdempotency(s: MemberState, key: string, oldestS: number): IdempotencyRecord | undefined {
  for (let i = s.rare.idempotency.length - 1; i >= 0; i--) {
    const r = s.rare.idempotency[i];
    if (r.key === key && r.at >= oldestS) return r;
  }
  return undefined;
}

function dueLots(s: MemberState, asOfS: number, asOf: string): PointsExpired[] {
  const due: PointsExpired[] = [];
  const lots = s.lots;
  for (let i = 0; i < lots.length; i++) {
    if (lots.field(i, 'expiresAt') <= asOfS) due.push({ type: 'PointsExpired', data: { points: lots.field(i, 'remaining'), lotId: lots.field(i, 'id'), asOf } });
  }
  return due;
}

function redeem(c: RedeemPoints, s: MemberState, p: Programme, nowMs: number): Decision {
  const d = c.data;
  // Not recorded: a member who is not enrolled has no stream to record it in (and a 404).
  if (!s.enrolled) return reject('not-enrolled', `member ${d.memberId} is not enrolled`);
  const nowS = Math.floor(nowMs / 1000);
  const requestHash = hash53(`redeem|${d.rewardId ?? ''}|${d.points ?? ''}|${d.reference ?? ''}`);
  const prior = findIdempotency(s, d.idempotencyKey, nowS - p.dedupWindowDays * DAY_S);
  if (prior !== undefined) {
    if (prior.requestHash !== requestHash || prior.kind === 'adjustment') {
      return reject('idempotency-conflict', `idempotency key ${d.idempotencyKey} was used with a different request`);
    }
    // The same refusal again, with no new event: the first answer.
    if (prior.kind === 'refusal') return reject(prior.ref as RejectionCode, prior.message ?? '');
    return duplicate({ kind: 'redemption', redemptionId: prior.ref, pointsSpent: prior.points, available: prior.available, sequence: prior.sequence });
  }
  // Lots already past their expiry are expired first: they are not spendable.
  const expired = dueLots(s, nowS, c.metadata.now);
  let lots = s.lots;
  let avail = available(s);
  if (expired.length > 0) {
    lots = s.lots.filter((l) => l.expiresAt > nowS);
    for (const e of expired) avail -= e.data.points;
  }
  let points: number;
  if (d.rewardId !== undefined) {
    const reward = findReward(p, d.rewardId);
    if (reward === undefined) return refuse(c, requestHash, undefined, 'unknown-reward', `no reward ${d.rewardId} in the catalogue`, avail);
    points = reward.points;
  } else if (d.points !== undefined && Number.isSafeInteger(d.points) && d.points > 0) {
    points = d.points;
  } else {
    return reject('invalid-command', 'a redemption names a rewardId or a positive integer number of points');
  }
  if (avail < points) return refuse(c, requestHash, points, 'insufficient-points', `redemption needs ${points} points, ${Math.max(0, avail)} available`, avail);
  const events: MemberEvent[] = [...expired];
  events.push({
    type: 'RewardRedeemed',
    data: {
      redemptionId: uuidFrom(`${d.memberId}/redemption/${d.idempotencyKey}`),
      ...(d.rewardId !== undefined ? { rewardId: d.rewardId } : {}),
      ...(d.reference !== undefined ? { reference: d.reference } : {}),
      points,
      lots: spendOldest(lots, points),
      idempotencyKey: d.idempotencyKey,
      requestHash,
      recordedAt: c.metadata.now,
    },
  });
  return { ok: true, events };
}

/**
 * A rejection that depends on more than the request (the points the member holds, the
 * catalogue in force): recorded as RedemptionRefused, so the key keeps this answer.
 */
function refuse(c: RedeemPoints, requestHash: string, points: number | undefined, code: RedemptionRefusalCode, message: string, avail: number): Decision {
  const d = c.data;
  const data: { -readonly [K in keyof RedemptionRefused['data']]: RedemptionRefused['data'][K] } = {
    idempotencyKey: d.idempotencyKey,
    requestHash,
    code,
    message,
    available: avail,
    recordedAt: c.metadata.now,
  };
  if (d.rewardId !== undefined) data.rewardId = d.rewardId;
  if (d.reference !== undefined) data.reference = d.reference;
  if (points !== undefined) data.points = points;
  return { ok: true, events: [{ type: 'RedemptionRefused', data }], refusal: { code, message } };
}

export const MAX_ADJUSTMENT = 1_000_000_000;

function adjust(c: AdjustPoints, s: MemberState, p: Programme, nowMs: number): Decision {
  const d = c.data;
  if (!s.enrolled) return reject('not-enrolled', `member ${d.memberId} is not enrolled`);
  if (!Number.isSafeInteger(d.points) || d.points === 0 || Math.abs(d.points) > MAX_ADJUSTMENT) {
    return reject('invalid-command', `points must be a non-zero integer of at most ${MAX_ADJUSTMENT} in magnitude`);
  }
  if (!d.reason || !d.actor) return reject('invalid-command', 'an adjustment needs a reason and an actor');
  const nowS = Math.floor(nowMs / 1000);
  const requestHash = hash53(`adjust|${d.points}|${d.reason}`);
  const prior = findIdempotency(s, d.idempotencyKey, nowS - p.dedupWindowDays * DAY_S);
  if (prior !== undefined) {
    if (prior.requestHash !== requestHash || prior.kind !== 'adjustment') {
      return reject('idempotency-conflict', `idempotency key ${d.idempotencyKey} was used with a different request`);
    }
    return duplicate({ kind: 'adjustment', adjustmentId: prior.ref, points: prior.points, available: prior.available, sequence: prior.sequence });
  }
  const out = new Out(s, p, nowS);
  const common = {
    points: d.points,
    reason: d.reason,
    actor: d.actor,
    adjustmentId: uuidFrom(`${d.memberId}/adjustment/${d.idempotencyKey}`),
    idempotencyKey: d.idempotencyKey,
    requestHash,
    recordedAt: c.metadata.now,
  };
  if (d.points > 0) {
    const repaid = Math.min(s.rare.debt, d.points);
    out.events.push({
      type: 'PointsAdjusted',
      data: { ...common, lotId: lotIdFor(out.nextSequence()), expiresAt: out.expiresAt(), ...(repaid > 0 ? { repaid } : {}) },
    });
  } else {
    out.events.push({ type: 'PointsAdjusted', data: { ...common, lots: spendOldest(s.lots, -d.points) } });
  }
  return { ok: true, events: out.events };
}

function expire(c: ExpirePoints, s: MemberState, nowMs: number): Decision {
  if (!s.enrolled) return reject('not-enrolled', `member ${c.data.memberId} is not enrolled`);
  const asOfMs = parseInstant(c.data.asOf);
  if (Number.isNaN(asOfMs)) return reject('invalid-command', 'asOf must be an ISO 8601 instant with offset');
  if (asOfMs > nowMs) return reject('invalid-command', 'asOf must not be after the recording time');
  return { ok: true, events: dueLots(s, Math.floor(asOfMs / 1000), c.data.asOf) };
}

function review(c: ReviewTier, s: MemberState, p: Programme, nowMs: number): Decision {
  if (!s.enrolled) return reject('not-enrolled', `member ${c.data.memberId} is not enrolled`);
  const asOfMs = parseInstant(c.data.asOf);
  if (Number.isNaN(asOfMs)) return reject('invalid-command', 'asOf must be an ISO 8601 instant with offset');
  if (asOfMs > nowMs) return reject('invalid-command', 'asOf must not be after the recording time');
  if (nowMs - asOfMs > p.dedupWindowDays * DAY_S * 1000) return reject('invalid-command', `asOf must lie within the last ${p.dedupWindowDays} days`);
  const asOfS = Math.floor(asOfMs / 1000);
  if (asOfS <= s.rare.lastReviewAt) return duplicate({ kind: 'review', asOf: c.data.asOf });
  const cur = tierIndexOf(p, s.tier);
  if (cur === 0) return { ok: true, events: NOTHING };
  // A tier that took effect after the as-of date is not this review's to judge: a review run
  // late (a scheduler down on the 1st) would count points up to the 1st only, and undo an
  // upgrade earned since. The next review's window holds the purchase that gave it.
  if (s.rare.tierSince > asOfS) return { ok: true, events: NOTHING };
  // The grace period: no downgrade within N months of the change that gave the current tier.
  const grace = p.review.downgradeGraceMonths;
  if (grace > 0 && s.rare.tierSince > 0 && asOfS < addMonthsSeconds(s.rare.tierSince, grace)) return { ok: true, events: NOTHING };
  const q = qualifyingPoints(s, p, asOfS);
  if (q >= p.tiers[cur].threshold) return { ok: true, events: NOTHING };
  const to = Math.max(tierIndexFor(p, q), cur - p.review.downgradeLevels);
  return {
    ok: true,
    events: [{ type: 'TierChanged', data: { from: s.tier, to: p.tiers[to].name, reason: 'review', asOf: c.data.asOf } }],
  };
}

function creditReferral(c: CreditReferral, s: MemberState, p: Programme, nowMs: number): Decision {
  const d = c.data;
  if (!s.enrolled) return reject('not-enrolled', `referrer ${d.memberId} is not enrolled`);
  if (d.refereeId === d.memberId) return reject('invalid-referral', 'a member cannot refer themselves');
  if (s.rare.referees.includes(d.refereeId)) return duplicate({ kind: 'referral', refereeId: d.refereeId });
  const out = new Out(s, p, Math.floor(nowMs / 1000));
  out.earn(p.referral.referrer, 'referral', { refereeId: d.refereeId });
  return { ok: true, events: out.events };
}

/**
 * Forgets what no decision can use any more: purchases and idempotency records older
 * than the de-duplication window (a forgotten purchase's qualifying points move to
 * `qualifying`), qualifying points older than both windows. Call it before storing a
 * state; `decide` gives the same answers with or without it.
 */
export function compact(s: MemberState, p: Programme, now: string): MemberState {
  const nowS = Math.floor(parseNow(now) / 1000);
  if (Number.isNaN(nowS)) return s;
  const oldest = nowS - p.dedupWindowDays * DAY_S;
  const oldestQ = oldest - p.qualifyingWindowDays * DAY_S;
  let purchases = s.purchases;
  let qualifying = s.rare.qualifying;
  let qualifyingStale = false;
  for (let i = 0; i < qualifying.length; i += 2) {
    if (qualifying[i] <= oldestQ || qualifying[i + 1] === 0) qualifyingStale = true;
  }
  // fields read in place: compact runs for every member of every ledger batch
  let leaving = false;
  for (let i = 0; i < purchases.length; i++) if (purchases.field(i, 'at') < oldest) leaving = true;
  if (qualifyingStale || leaving) {
    const q: number[] = [];
    for (let i = 0; i < qualifying.length; i += 2) {
      if (qualifying[i] > oldestQ && qualifying[i + 1] !== 0) q.push(qualifying[i], qualifying[i + 1]);
    }
    if (leaving) {
      for (let i = 0; i < purchases.length; i++) {
        const at = purchases.field(i, 'at');
        const pts = purchases.field(i, 'earned') - purchases.field(i, 'reversed');
        if (at < oldest && at > oldestQ && pts !== 0) q.push(at, pts);
      }
      purchases = purchases.atOrAfter(oldest);
    }
    qualifying = q;
  }
  const idempotency = s.rare.idempotency.some((x) => x.at < oldest) ? s.rare.idempotency.filter((x) => x.at >= oldest) : s.rare.idempotency;
  if (purchases === s.purchases && idempotency === s.rare.idempotency && qualifying === s.rare.qualifying) return s;
  return withForgotten(s, purchases, qualifying, idempotency);
}
