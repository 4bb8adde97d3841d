import { HttpException } from '@nestjs/common';
import type { CommandOutcome } from '@loyalty/kafka';
import { apiError } from '../common/error.filter';

/** The HTTP status of each rejection the decider can give. */
const STATUS: Record<string, number> = {
  'invalid-command': 400,
  'not-enrolled': 404,
  'already-enrolled': 409,
  'idempotency-conflict': 409,
  'invalid-referral': 422,
  'wrong-currency': 422,
  'purchase-too-old': 422,
  'purchase-in-future': 422,
  'unknown-purchase': 422,
  'refund-exceeds-remaining': 422,
  'unknown-reward': 422,
  'insufficient-points': 422,
};

/** A rejected outcome as the error the client gets; accepted and duplicate outcomes pass through. */
export function throwIfRejected(outcome: CommandOutcome): CommandOutcome {
  if (outcome.status !== 'rejected') return outcome;
  const code = outcome.rejection?.code ?? 'rejected';
  throw apiError(STATUS[code] ?? 422, code.replace(/-/g, '_'), outcome.rejection?.message ?? 'the command was rejected', {
    commandId: outcome.commandId,
  });
}

export function timeoutError(commandId: string): HttpException {
  return apiError(503, 'outcome_pending', 'the command was accepted for processing but its outcome is not known yet; ask again, never resend it', {
    commandId,
    outcomeUrl: `/v1/commands/${encodeURIComponent(commandId)}`,
  });
}
