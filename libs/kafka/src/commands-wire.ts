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

/** Header of an ingest command holding the upstream message's bytes, for the dead-letter topic
 *  (the format before UPSTREAM_ORIGIN_HEADER; still read). */
export const ORIGINAL_MESSAGE_HEADER = 'original-message';

/**
 * Header of an ingest command whose value is the upstream message itself, as received and
 * validated by the ingest: `<topic>/<partition>/<offset>` of that message. The ledger reads
 * the command from those bytes (the same validation; the command id is the purchase's or
 * refund's, see upstreamCommandId) and dead-letters the same bytes if it rejects it, so
 * nothing is encoded twice and the command is no larger than the purchase.
 */
export const UPSTREAM_ORIGIN_HEADER = 'upstream-origin';

const DIGITS = /^\d+$/;

export function upstreamOriginHeader(topic: string, partition: number, offset: string): string {
  return `${topic}/${partition}/${offset}`;
}

/** The origin named by an UPSTREAM_ORIGIN_HEADER value; undefined if malformed. */
export function parseUpstreamOrigin(value: string): CommandOrigin | undefined {
  const last = value.lastIndexOf('/');
  const middle = value.lastIndexOf('/', last - 1);
  if (middle <= 0) return undefined;
  const partition = value.slice(middle + 1, last);
  const offset = value.slice(last + 1);
  if (!DIGITS.test(partition) || !DIGITS.test(offset)) return undefined;
  return { source: 'ingest', topic: value.slice(0, middle), partition: Number(partition), offset };
}

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

/**
 * The headers of a dead letter on `loyalty.purchases.dlq` (what `loyalty dlq` lists and
 * redrives by): why, and where the upstream message was read, by the stage that refused it.
 */
export function deadLetterHeaders(rejectedBy: 'ingest' | 'ledger', origin: Pick<CommandOrigin, 'topic' | 'partition' | 'offset'>, reason: string, message: string): Record<string, string> {
  return {
    reason,
    'reason-message': message,
    'source-topic': origin.topic ?? '',
    'source-partition': String(origin.partition ?? ''),
    'source-offset': origin.offset ?? '',
    'rejected-by': rejectedBy,
  };
}
