// Command builders for the domain tests.
import {
  AdjustPoints,
  CommandMetadata,
  CreditReferral,
  EnrolMember,
  ExpirePoints,
  RecordPurchase,
  RedeemPoints,
  RefundPurchase,
  ReviewTier,
} from '../src';

export const M = 'm-1';
let n = 0;
export function meta(now: string): CommandMetadata {
  n += 1;
  return { commandId: `c-${n}`, now, correlationId: `corr-${n}` };
}

export const T0 = '2025-03-10T12:00:00.000Z';

/** ISO instant `days` after T0 (fractional days allowed). */
export function day(days: number, base = T0): string {
  return new Date(Date.parse(base) + days * 86_400_000).toISOString();
}

export function enrol(data: Partial<EnrolMember['data']> = {}, now = T0): EnrolMember {
  return { type: 'EnrolMember', data: { memberId: M, ...data }, metadata: meta(now) };
}

export function purchase(
  purchaseId: string,
  amount: number,
  occurredAt = T0,
  now = occurredAt,
  extra: Partial<RecordPurchase['data']> = {},
): RecordPurchase {
  return {
    type: 'RecordPurchase',
    data: { memberId: M, purchaseId, amount, currency: 'USD', occurredAt, ...extra },
    metadata: meta(now),
  };
}

export function refund(refundId: string, purchaseId: string, amount: number, now = T0): RefundPurchase {
  return {
    type: 'RefundPurchase',
    data: { memberId: M, refundId, purchaseId, amount, currency: 'USD', occurredAt: now },
    metadata: meta(now),
  };
}

export function redeem(key: string, what: { rewardId?: string; points?: number; reference?: string }, now = T0): RedeemPoints {
  return { type: 'RedeemPoints', data: { memberId: M, idempotencyKey: key, ...what }, metadata: meta(now) };
}

export function adjust(key: string, points: number, now = T0, reason = 'goodwill'): AdjustPoints {
  return { type: 'AdjustPoints', data: { memberId: M, idempotencyKey: key, points, reason, actor: 'op-1' }, metadata: meta(now) };
}

export function expire(asOf: string, now = asOf): ExpirePoints {
  return { type: 'ExpirePoints', data: { memberId: M, asOf }, metadata: meta(now) };
}

export function review(asOf: string, now = asOf): ReviewTier {
  return { type: 'ReviewTier', data: { memberId: M, asOf }, metadata: meta(now) };
}

export function creditReferral(refereeId: string, now = T0): CreditReferral {
  return { type: 'CreditReferral', data: { memberId: M, refereeId }, metadata: meta(now) };
}
