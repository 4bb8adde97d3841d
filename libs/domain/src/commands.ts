// Commands: readonly {type, data, metadata} records. Time and ids come in through
// the metadata, so `decide` stays pure.

import { Channel } from './events';

export interface CommandMetadata {
  /** Unique id of this command (causationId of its events; eventIds derive from it). */
  readonly commandId: string;
  /** The ledger's recording time, ISO 8601 with offset. Stamped by the ledger when it decides. */
  readonly now: string;
  readonly correlationId: string;
}

export interface PurchaseItem {
  readonly sku: string;
  readonly category: string;
  readonly quantity: number;
  readonly unitPrice: number;
}

export type EnrolMember = {
  readonly type: 'EnrolMember';
  readonly data: {
    readonly memberId: string;
    readonly name?: string;
    readonly email?: string;
    readonly birthday?: string; // YYYY-MM-DD
    readonly referredBy?: string;
  };
  readonly metadata: CommandMetadata;
};

export type RecordPurchase = {
  readonly type: 'RecordPurchase';
  readonly data: {
    readonly memberId: string;
    readonly purchaseId: string;
    readonly amount: number;
    readonly currency: string;
    readonly occurredAt: string;
    readonly channel?: Channel;
    readonly storeId?: string;
    readonly items?: readonly PurchaseItem[];
  };
  readonly metadata: CommandMetadata;
};

export type RefundPurchase = {
  readonly type: 'RefundPurchase';
  readonly data: {
    readonly memberId: string;
    readonly refundId: string;
    readonly purchaseId: string;
    readonly amount: number;
    readonly currency: string;
    readonly occurredAt: string;
  };
  readonly metadata: CommandMetadata;
};

/** Redeem a catalogue reward (`rewardId`) or a number of points (`points` + `reference`). */
export type RedeemPoints = {
  readonly type: 'RedeemPoints';
  readonly data: {
    readonly memberId: string;
    readonly idempotencyKey: string;
    readonly rewardId?: string;
    readonly points?: number;
    readonly reference?: string;
  };
  readonly metadata: CommandMetadata;
};

export type AdjustPoints = {
  readonly type: 'AdjustPoints';
  readonly data: {
    readonly memberId: string;
    readonly idempotencyKey: string;
    readonly points: number; // signed, non-zero
    readonly reason: string;
    readonly actor: string;
  };
  readonly metadata: CommandMetadata;
};

export type ExpirePoints = {
  readonly type: 'ExpirePoints';
  readonly data: { readonly memberId: string; readonly asOf: string };
  readonly metadata: CommandMetadata;
};

export type ReviewTier = {
  readonly type: 'ReviewTier';
  readonly data: { readonly memberId: string; readonly asOf: string };
  readonly metadata: CommandMetadata;
};

/**
 * Credits the referrer (this stream's member) for a referee's first purchase. The
 * ledger issues it when it appends a ReferralCompleted in the referee's stream:
 * `referralCommandFor(envelope)` builds it, keyed by the referrer's memberId.
 */
export type CreditReferral = {
  readonly type: 'CreditReferral';
  readonly data: { readonly memberId: string; readonly refereeId: string };
  readonly metadata: CommandMetadata;
};

export type MemberCommand =
  | EnrolMember
  | RecordPurchase
  | RefundPurchase
  | RedeemPoints
  | AdjustPoints
  | ExpirePoints
  | ReviewTier
  | CreditReferral;

export type MemberCommandType = MemberCommand['type'];
