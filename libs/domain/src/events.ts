// The facts of the ledger. Each event records what was decided (points, lots,
// tiers), so `evolve` and every projection apply facts and never re-run rules.
// Never rename a published type or field: add a version and an upcaster instead.

export type EarnCause = 'purchase' | 'welcome' | 'birthday' | 'referral' | 'promotion';
export type TierName = string; // names come from the programme, e.g. Member, Silver, Gold, Platinum
export type Channel = 'store' | 'online' | 'app' | 'partner';

export interface LotTaken {
  readonly lotId: string;
  readonly points: number;
}

export type MemberEnrolled = {
  readonly type: 'MemberEnrolled';
  readonly data: {
    readonly source: 'api' | 'purchase';
    readonly tier: TierName;
    readonly name?: string;
    readonly email?: string;
    readonly referredBy?: string;
    readonly birthday?: string; // YYYY-MM-DD
  };
};

export type PurchaseMade = {
  readonly type: 'PurchaseMade';
  readonly data: {
    readonly purchaseId: string;
    readonly amount: number; // minor units
    readonly currency: string;
    readonly occurredAt: string;
    readonly channel?: Channel;
    readonly storeId?: string;
    /**
     * The ledger's recording time (also the envelope's recordedAt); drives state pruning.
     * Version 2: always present. Version 1 events lack it; the upcaster fills it in.
     */
    readonly recordedAt: string;
  };
};

export type PointsEarned = {
  readonly type: 'PointsEarned';
  readonly data: {
    readonly points: number;
    readonly cause: EarnCause;
    readonly purchaseId?: string;
    readonly lotId: string;
    readonly expiresAt: string;
    readonly programVersion: string;
    /** Points of this earning that repaid a negative balance instead of opening a lot. */
    readonly repaid?: number;
    /** cause `promotion`: the programme's promotion id. */
    readonly promotionId?: string;
    /** cause `birthday`: the year the bonus was granted for (once a year). */
    readonly birthdayYear?: number;
    /** cause `referral`: the referee (in the referrer's stream) or the referrer (in the referee's). */
    readonly referrerId?: string;
    readonly refereeId?: string;
  };
};

export type TierChanged = {
  readonly type: 'TierChanged';
  readonly data: {
    readonly from: TierName;
    readonly to: TierName;
    readonly reason: 'upgrade' | 'review';
    /** reason `review`: the review's as-of (also when the new tier took effect). */
    readonly asOf?: string;
    /**
     * reason `upgrade`: when the new tier took effect, the crossing purchase's occurredAt
     * (the downgrade grace period counts from it). Older upgrades lack it; the upcaster
     * takes the envelope's occurredAt, which is that same instant.
     */
    readonly effectiveAt?: string;
  };
};

export type RewardRedeemed = {
  readonly type: 'RewardRedeemed';
  readonly data: {
    readonly redemptionId: string;
    readonly rewardId?: string;
    readonly reference?: string;
    readonly points: number;
    readonly lots: readonly LotTaken[];
    /** Client-chosen key and a hash of the request, so a repeat returns this outcome. */
    readonly idempotencyKey?: string;
    readonly requestHash?: string;
    readonly recordedAt?: string;
  };
};

/**
 * A redemption with an idempotency key refused because of what the ledger held at the
 * time (points short, a reward not in the catalogue): no points move, but the refusal is
 * a fact of the member's stream, so a repeat of the same key and request is answered with
 * the same refusal by any ledger instance, after any restart (and another request under
 * that key is an idempotency conflict), exactly as for a redemption that succeeded.
 */
export type RedemptionRefused = {
  readonly type: 'RedemptionRefused';
  readonly data: {
    readonly idempotencyKey: string;
    readonly requestHash: string;
    /** What was asked: a reward, or a number of points with a reference. */
    readonly rewardId?: string;
    readonly reference?: string;
    /** The points the redemption needed (absent when the reward is unknown). */
    readonly points?: number;
    /** The rejection, as the caller got it. */
    readonly code: RedemptionRefusalCode;
    readonly message: string;
    /** The points the member could spend at the time (lots past their expiry left out). */
    readonly available: number;
    readonly recordedAt: string;
  };
};

/** The rejections of a redemption that depend on more than the request itself, and are recorded. */
export type RedemptionRefusalCode = 'insufficient-points' | 'unknown-reward';

export type PurchaseRefunded = {
  readonly type: 'PurchaseRefunded';
  readonly data: { readonly refundId: string; readonly purchaseId: string; readonly amount: number };
};

export type PointsReversed = {
  readonly type: 'PointsReversed';
  readonly data: {
    readonly points: number;
    readonly purchaseId: string;
    readonly refundId: string;
    readonly programVersion: string;
    readonly lots: readonly LotTaken[];
  };
};

export type PointsExpired = {
  readonly type: 'PointsExpired';
  readonly data: { readonly points: number; readonly lotId: string; readonly asOf: string };
};

export type PointsAdjusted = {
  readonly type: 'PointsAdjusted';
  readonly data: {
    readonly points: number; // signed
    readonly reason: string;
    readonly actor: string;
    readonly adjustmentId: string;
    readonly lotId?: string; // a positive adjustment opens a lot
    readonly expiresAt?: string;
    readonly lots?: readonly LotTaken[]; // a negative adjustment spends lots
    readonly repaid?: number; // a positive adjustment repays a negative balance first
    readonly idempotencyKey?: string;
    readonly requestHash?: string;
    readonly recordedAt?: string;
  };
};

export type ReferralCompleted = {
  readonly type: 'ReferralCompleted';
  readonly data: { readonly referrerId: string; readonly refereeId: string; readonly purchaseId?: string };
};

export type MemberEvent =
  | MemberEnrolled
  | PurchaseMade
  | PointsEarned
  | TierChanged
  | RewardRedeemed
  | RedemptionRefused
  | PurchaseRefunded
  | PointsReversed
  | PointsExpired
  | PointsAdjusted
  | ReferralCompleted;

export type MemberEventType = MemberEvent['type'];

/** The envelope on `loyalty.events` (CONTRACT.md). Key = memberId. */
export interface EventEnvelope<E extends MemberEvent = MemberEvent> {
  readonly eventId: string;
  readonly type: E['type'];
  readonly version: number;
  readonly memberId: string;
  readonly sequence: number;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly causationId: string;
  readonly correlationId: string;
  readonly data: E['data'];
}

export const CURRENT_EVENT_VERSION: Record<MemberEventType, number> = {
  MemberEnrolled: 1,
  PurchaseMade: 2,
  PointsEarned: 1,
  TierChanged: 1,
  RewardRedeemed: 1,
  RedemptionRefused: 1,
  PurchaseRefunded: 1,
  PointsReversed: 1,
  PointsExpired: 1,
  PointsAdjusted: 1,
  ReferralCompleted: 1,
};
