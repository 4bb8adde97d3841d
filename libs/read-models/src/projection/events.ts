// What every projection needs to know about one event, in one place: the points
// it moves on the member's balance, the lifetime counter it feeds, and the UTC
// day / month it counts in. Both the Postgres and the Redis projection use these,
// so the two stores cannot disagree on the meaning of an event.
import { CURRENT_EVENT_VERSION, type EventEnvelope, type MemberEvent, type MemberEventType } from '@loyalty/domain';

/** One event of one Kafka partition, as handed to a projection. */
export interface PartitionEvent {
  /** Kafka offset (a decimal string, as kafkajs gives it). */
  readonly offset: string;
  readonly envelope: EventEnvelope;
}

export interface PointsEffect {
  /** Signed change of `available`. */
  readonly delta: number;
  readonly earned: number;
  readonly redeemed: number;
  readonly expired: number;
  readonly reversed: number;
  readonly adjusted: number;
}

const NONE: PointsEffect = { delta: 0, earned: 0, redeemed: 0, expired: 0, reversed: 0, adjusted: 0 };

/** The event versions this library understands: the domain's current ones (older ones are upcast on read). */
export const KNOWN_VERSIONS: Readonly<Record<MemberEventType, number>> = CURRENT_EVENT_VERSION;

/** Adds an event's effect to running counters (one definition for every store). */
export function addEffect(acc: { earned: number; redeemed: number; expired: number; reversed: number; adjusted: number }, fx: PointsEffect): void {
  acc.earned += fx.earned;
  acc.redeemed += fx.redeemed;
  acc.expired += fx.expired;
  acc.reversed += fx.reversed;
  acc.adjusted += fx.adjusted;
}

export class UnknownEventError extends Error {
  constructor(readonly envelope: { type: string; version: number; eventId: string }) {
    super(
      `read-models cannot project event ${envelope.eventId}: type ${envelope.type} version ${envelope.version} is unknown; ` +
        'deploy a projection that knows it (or an upcaster) and restart: nothing was applied',
    );
    this.name = 'UnknownEventError';
  }
}

/** Throws UnknownEventError for a type or version this projection does not know (stop loudly, never guess). */
export function assertKnown(envelope: EventEnvelope): void {
  const known = (KNOWN_VERSIONS as Record<string, number | undefined>)[envelope.type];
  if (known === undefined || envelope.version > known || !Number.isSafeInteger(envelope.sequence)) {
    throw new UnknownEventError(envelope);
  }
}

export function pointsEffect(e: MemberEvent): PointsEffect {
  const fx = { ...NONE };
  if (!addPoints(fx, e.type, (e.data as { points?: number } | undefined)?.points as number)) return exhaustive(e as never);
  return fx;
}

/**
 * Adds the effect of an event of type `type` carrying `points` (its `data.points`; ignored
 * for the types that move no points) to running counters, without building the effect.
 * False for a type it does not know. The one definition of what each type does to a balance.
 */
export function addPoints(acc: { delta: number; earned: number; redeemed: number; expired: number; reversed: number; adjusted: number }, type: string, points: number): boolean {
  switch (type as MemberEventType) {
    case 'PointsEarned':
      acc.delta += points;
      acc.earned += points;
      return true;
    case 'RewardRedeemed':
      acc.delta -= points;
      acc.redeemed += points;
      return true;
    case 'PointsExpired':
      acc.delta -= points;
      acc.expired += points;
      return true;
    case 'PointsReversed':
      acc.delta -= points;
      acc.reversed += points;
      return true;
    case 'PointsAdjusted':
      acc.delta += points;
      acc.adjusted += points;
      return true;
    case 'MemberEnrolled':
    case 'PurchaseMade':
    case 'TierChanged':
    case 'PurchaseRefunded':
    case 'ReferralCompleted':
    case 'RedemptionRefused': // a refused redemption moves no points
      return true;
    default:
      return false;
  }
}

/** Signed points change of one event (0 for events that move no points). */
export function pointsDelta(e: MemberEvent): number {
  return pointsEffect(e).delta;
}

export function exhaustive(x: never): never {
  throw new UnknownEventError(x as unknown as { type: string; version: number; eventId: string });
}

/** The UTC instant of an ISO 8601 string with any offset, as `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function utcIso(iso: string): string {
  // Fast path: already UTC with milliseconds.
  if (iso.length === 24 && iso.charCodeAt(23) === 90 /* Z */) return iso;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new RangeError(`not an ISO 8601 date-time: ${iso}`);
  return new Date(t).toISOString();
}

/** UTC calendar day `YYYY-MM-DD` of an ISO date-time. */
export function utcDay(iso: string): string {
  return utcIso(iso).slice(0, 10);
}

/** UTC calendar month `YYYY-MM` of an ISO date-time: the leaderboard period of an event. */
export function utcMonth(iso: string): string {
  return utcIso(iso).slice(0, 7);
}

/** Kafka offsets are decimal strings; compare them without losing precision. */
export function offsetToBigInt(offset: string): bigint {
  if (!/^\d+$/.test(offset)) throw new RangeError(`not a Kafka offset: ${offset}`);
  return BigInt(offset);
}
