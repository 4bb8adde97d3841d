import { available, referralCommandFor, type Decision, type EventEnvelope, type MemberState, type ReferralCompleted } from '@loyalty/domain';
import type { CommandMessage, CommandOutcome } from '@loyalty/kafka';

export function outcomeOf(wire: CommandMessage, decision: Decision, after: MemberState): CommandOutcome {
  const base = { commandId: wire.commandId, memberId: wire.data.memberId, sequence: after.sequence };
  if (!decision.ok) return { ...base, status: 'rejected', events: 0, rejection: decision.rejection };
  // A recorded rejection (RedemptionRefused): its event is appended, the caller gets the rejection.
  if (decision.refusal) return { ...base, status: 'rejected', events: decision.events.length, rejection: { ...decision.refusal } };
  if (decision.duplicateOf) {
    return { ...base, status: 'duplicate', events: 0, result: { ...decision.duplicateOf } };
  }
  const result: Record<string, unknown> = { available: available(after) };
  for (const e of decision.events) {
    if (e.type === 'RewardRedeemed') Object.assign(result, { redemptionId: e.data.redemptionId, pointsSpent: e.data.points });
    if (e.type === 'PointsAdjusted') Object.assign(result, { adjustmentId: e.data.adjustmentId, points: e.data.points });
  }
  return { ...base, status: 'accepted', events: decision.events.length, result };
}

/** Commands the ledger issues to other members' streams, e.g. the referrer's credit. */
export function followUpCommands(envelopes: readonly EventEnvelope[], now: string): CommandMessage[] {
  const out: CommandMessage[] = [];
  for (const e of envelopes) {
    if (e.type !== 'ReferralCompleted') continue;
    const c = referralCommandFor(e as EventEnvelope<ReferralCompleted>, now);
    out.push({ commandId: c.metadata.commandId, correlationId: c.metadata.correlationId, type: c.type, data: c.data, origin: { source: 'ledger' } });
  }
  return out;
}
