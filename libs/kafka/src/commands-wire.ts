import type { MemberCommand } from '@loyalty/domain';

/** Where a command came from; an ingest command keeps the original bytes for the dead-letter topic. */
export interface CommandOrigin {
  source: 'ingest' | 'api' | 'scheduler' | 'ledger' | 'ops';
  topic?: string;
  partition?: number;
  offset?: string;
  /** The original message value (utf8), for dead-lettering a rejected purchase. Older
   *  commands carry it here; the ingest now sends it as the ORIGINAL_MESSAGE_HEADER. */
  raw?: string;
}

/** Header of an ingest command holding the upstream message's bytes, for the dead-letter topic. */
export const ORIGINAL_MESSAGE_HEADER = 'original-message';

/** A command on `loyalty.commands` (key = memberId). The ledger stamps `now` when it decides. */
export interface CommandMessage {
  commandId: string;
  correlationId: string;
  type: MemberCommand['type'];
  data: MemberCommand['data'];
  origin: CommandOrigin;
}

/** The outcome of one command on `loyalty.command-results` (key = memberId). */
export interface CommandOutcome {
  commandId: string;
  memberId: string;
  status: 'accepted' | 'duplicate' | 'rejected';
  /** The member's sequence after the command (its last event, or the current one if none). */
  sequence: number;
  events: number;
  rejection?: { code: string; message: string };
  /** Free-form result for the caller, e.g. `{redemptionId, pointsSpent, available}`. */
  result?: Record<string, unknown>;
}
