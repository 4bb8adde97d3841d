// Envelopes for `loyalty.events` and the upcaster chain that reads old ones.

import { CreditReferral, MemberCommand } from './commands';
import { CURRENT_EVENT_VERSION, EventEnvelope, MemberEvent, MemberEventType, ReferralCompleted } from './events';
import { uuidFrom } from './ids';

export interface EnvelopeMeta {
  readonly commandId: string;
  readonly correlationId: string;
  /** The ledger's recording time (command.metadata.now). */
  readonly recordedAt: string;
  /** Business time of the facts; defaults to recordedAt. A purchase's events carry its occurredAt. */
  readonly occurredAt?: string;
  /** Defaults to commandId. */
  readonly causationId?: string;
}

/** The envelope metadata of a command's events: purchase and refund events occur at the purchase's time. */
export function envelopeMetaFor(command: MemberCommand): EnvelopeMeta {
  const m = command.metadata;
  const occurredAt =
    command.type === 'RecordPurchase' || command.type === 'RefundPurchase'
      ? command.data.occurredAt
      : command.type === 'ExpirePoints' || command.type === 'ReviewTier'
        ? command.data.asOf
        : m.now;
  return { commandId: m.commandId, correlationId: m.correlationId, recordedAt: m.now, occurredAt };
}

/**
 * Wraps a command's events. `startSequence` must be state.sequence + 1 of the state the
 * command was decided against (lot ids embed the sequence). eventIds are name-based
 * UUIDs of (memberId, sequence, commandId): a re-run of the same batch reproduces them.
 */
export function toEnvelopes(
  memberId: string,
  startSequence: number,
  events: readonly MemberEvent[],
  meta: EnvelopeMeta,
): EventEnvelope[] {
  return events.map((e, i) => {
    const sequence = startSequence + i;
    return {
      eventId: uuidFrom(`${memberId}/${sequence}/${meta.commandId}`),
      type: e.type,
      version: CURRENT_EVENT_VERSION[e.type],
      memberId,
      sequence,
      occurredAt: meta.occurredAt ?? meta.recordedAt,
      recordedAt: meta.recordedAt,
      causationId: meta.causationId ?? meta.commandId,
      correlationId: meta.correlationId,
      data: e.data,
    } as EventEnvelope;
  });
}

// ---- Upcasting -----------------------------------------------------------------
//
// `upcast` turns any envelope ever written into the current shape, in two steps:
// 1. version steps: UPCASTERS[type][v] turns version v into v + 1, applied until
//    CURRENT_EVENT_VERSION[type]. The real case: PurchaseMade v1 had no `recordedAt` in
//    its data; v2 requires it (evolve dates the purchase's de-duplication by it), and
//    the step 1 → 2 takes it from the envelope, where every version carries it;
// 2. in-version defaults: fields added to a version after it was first published are
//    optional; readers get them filled: `recordedAt` in the data of RewardRedeemed and
//    PointsAdjusted, and `effectiveAt` of an upgrade's TierChanged (its envelope's
//    occurredAt: the crossing purchase's), are taken from the envelope when an older
//    event lacks them.
// A version newer than this code knows is refused (deploy the newer reader first).

type AnyEnvelope = Omit<EventEnvelope, 'data' | 'type'> & { readonly type: string; readonly data: Record<string, unknown> };
type Step = (e: AnyEnvelope) => AnyEnvelope;

export const UPCASTERS: Partial<Record<MemberEventType, Record<number, Step>>> = {
  PurchaseMade: {
    1: (e) => ({ ...e, version: 2, data: { ...e.data, recordedAt: e.data.recordedAt ?? e.recordedAt } }),
  },
};

export class UnknownEventError extends Error {}

export function upcast(envelope: AnyEnvelope | EventEnvelope): EventEnvelope {
  let e = envelope as AnyEnvelope;
  const type = e.type as MemberEventType;
  const current = CURRENT_EVENT_VERSION[type];
  if (current === undefined) throw new UnknownEventError(`unknown event type ${e.type}`);
  let v = e.version ?? 1;
  if (v > current) throw new UnknownEventError(`${type} version ${v} is newer than this reader (${current})`);
  while (v < current) {
    const step = UPCASTERS[type]?.[v];
    if (step === undefined) throw new UnknownEventError(`no upcaster for ${type} version ${v}`);
    e = step(e);
    v = e.version;
  }
  if ((type === 'RewardRedeemed' || type === 'PointsAdjusted') && e.data.recordedAt === undefined) {
    e = { ...e, data: { ...e.data, recordedAt: e.recordedAt } };
  }
  if (type === 'TierChanged' && e.data.reason === 'upgrade' && e.data.effectiveAt === undefined) {
    e = { ...e, data: { ...e.data, effectiveAt: e.occurredAt } };
  }
  return e as EventEnvelope;
}

/** The bare event of an envelope (after upcasting), for `evolve`. */
export function fromEnvelope(envelope: AnyEnvelope | EventEnvelope): MemberEvent {
  const e = upcast(envelope);
  return { type: e.type, data: e.data } as MemberEvent;
}

/**
 * The follow-up command that credits the referrer when a referee's stream records
 * ReferralCompleted. The ledger sends it to loyalty.commands keyed by the referrer;
 * its commandId is derived from the event, so a re-sent command is a no-op.
 */
export function referralCommandFor(envelope: EventEnvelope<ReferralCompleted>, now: string): CreditReferral {
  return {
    type: 'CreditReferral',
    data: { memberId: envelope.data.referrerId, refereeId: envelope.data.refereeId },
    metadata: { commandId: `referral/${envelope.eventId}`, now, correlationId: envelope.correlationId },
  };
}
