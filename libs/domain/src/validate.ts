// The ingest's hot path: a hand-rolled validator for the inbound purchase/refund
// message of CONTRACT.md (class-validator is ~50× slower). It applies the rules of
// limits.ts, the same ones the DTOs of dto.ts declare; a property test keeps the
// two in agreement.

import { CommandMetadata, PurchaseItem, RecordPurchase, RefundPurchase } from './commands';
import { Channel } from './events';
import { CHANNEL_VALUES, CURRENCY_PATTERN, InvalidReason, LIMITS, TEXT_PATTERN } from './limits';
import { parseInstant } from './time';

export type PurchaseMessageCommand = RecordPurchase | RefundPurchase;

export type PurchaseValidation =
  | { readonly ok: true; readonly command: PurchaseMessageCommand }
  | {
      readonly ok: false;
      readonly reason: InvalidReason;
      /** Human-readable, names the field. */
      readonly message: string;
      readonly details: { readonly field?: string; readonly message: string };
    };

class Invalid {
  constructor(
    readonly reason: InvalidReason,
    readonly field: string | undefined,
    readonly message: string,
  ) {}
}

function idField(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (v === undefined || v === null) throw new Invalid('missing-field', field, `${field} is required`);
  if (typeof v !== 'string' || v.length < 1 || v.length > LIMITS.idMaxLength || !TEXT_PATTERN.test(v)) {
    throw new Invalid('invalid-field', field, `${field} must be a string of 1..${LIMITS.idMaxLength} characters, without control characters`);
  }
  return v;
}

function optText(o: Record<string, unknown>, field: string): string | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length < 1 || v.length > LIMITS.textMaxLength || !TEXT_PATTERN.test(v)) {
    throw new Invalid('invalid-field', field, `${field} must be a string of 1..${LIMITS.textMaxLength} characters, without control characters`);
  }
  return v;
}

function intField(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new Invalid('invalid-field', field, `${field} must be an integer in ${min}..${max}`);
  }
  return v;
}

function items(v: unknown): PurchaseItem[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > LIMITS.itemsMax) {
    throw new Invalid('invalid-field', 'items', `items must be an array of at most ${LIMITS.itemsMax} items`);
  }
  const out: PurchaseItem[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const it = v[i];
    const f = `items[${i}]`;
    if (typeof it !== 'object' || it === null || Array.isArray(it)) throw new Invalid('invalid-field', f, `${f} must be an object`);
    const o = it as Record<string, unknown>;
    for (const k of ['sku', 'category'] as const) {
      const s = o[k];
      if (typeof s !== 'string' || s.length < 1 || s.length > LIMITS.textMaxLength) {
        throw new Invalid('invalid-field', `${f}.${k}`, `${f}.${k} must be a string of 1..${LIMITS.textMaxLength} characters`);
      }
    }
    out[i] = {
      sku: o.sku as string,
      category: o.category as string,
      quantity: intField(o.quantity, `${f}.quantity`, 1, LIMITS.quantityMax),
      unitPrice: intField(o.unitPrice, `${f}.unitPrice`, 0, LIMITS.unitPriceMax),
    };
  }
  return out;
}

function invalid(reason: InvalidReason, field: string | undefined, message: string): PurchaseValidation {
  return { ok: false, reason, message, details: field === undefined ? { message } : { field, message } };
}

/** The command id of an upstream purchase or refund: its own id, so a repeat is the same command. */
export function upstreamCommandId(c: { type: PurchaseMessageCommand['type']; data: { purchaseId: string; refundId?: string } }): string {
  return c.type === 'RefundPurchase' ? `refund:${c.data.refundId}` : `purchase:${c.data.purchaseId}`;
}

/** Default metadata: the purchase / refund id is the command id (a repeat is the same command). */
function defaultMetadata(c: Parameters<typeof upstreamCommandId>[0]): CommandMetadata {
  const commandId = upstreamCommandId(c);
  return { commandId, correlationId: commandId, now: new Date().toISOString() };
}

function check(o: Record<string, unknown>, given: CommandMetadata | undefined): PurchaseMessageCommand {
  const kind = o.kind === undefined || o.kind === null ? 'purchase' : o.kind;
  if (kind !== 'purchase' && kind !== 'refund') throw new Invalid('invalid-field', 'kind', 'kind must be purchase or refund');
  const purchaseId = idField(o, 'purchaseId');
  const refundId = kind === 'refund' ? idField(o, 'refundId') : undefined;
  const memberId = idField(o, 'memberId');
  if (o.amount === undefined || o.amount === null) throw new Invalid('missing-field', 'amount', 'amount is required');
  const amount = intField(o.amount, 'amount', 1, LIMITS.amountMax);
  const currency = o.currency;
  if (currency === undefined || currency === null) throw new Invalid('missing-field', 'currency', 'currency is required');
  if (typeof currency !== 'string' || !CURRENCY_PATTERN.test(currency)) {
    throw new Invalid('invalid-field', 'currency', 'currency must be an ISO 4217 code (3 capital letters)');
  }
  const occurredAt = o.occurredAt;
  if (occurredAt === undefined || occurredAt === null) throw new Invalid('missing-field', 'occurredAt', 'occurredAt is required');
  if (typeof occurredAt !== 'string' || Number.isNaN(parseInstant(occurredAt))) {
    throw new Invalid('invalid-field', 'occurredAt', 'occurredAt must be an ISO 8601 date-time with offset');
  }
  const channel = o.channel;
  if (channel !== undefined && channel !== null && !CHANNEL_VALUES.includes(channel as Channel)) {
    throw new Invalid('invalid-field', 'channel', `channel must be one of ${CHANNEL_VALUES.join(', ')}`);
  }
  const storeId = optText(o, 'storeId');
  const its = items(o.items);
  const metadata = given ?? defaultMetadata({ type: kind === 'refund' ? 'RefundPurchase' : 'RecordPurchase', data: { purchaseId, refundId } });
  if (kind === 'refund') {
    return {
      type: 'RefundPurchase',
      data: { memberId, refundId: refundId as string, purchaseId, amount, currency, occurredAt },
      metadata,
    };
  }
  const data: { -readonly [K in keyof RecordPurchase['data']]: RecordPurchase['data'][K] } = { memberId, purchaseId, amount, currency, occurredAt };
  if (channel !== undefined && channel !== null) data.channel = channel as Channel;
  if (storeId !== undefined) data.storeId = storeId;
  if (its !== undefined) data.items = its;
  return { type: 'RecordPurchase', data, metadata };
}

/**
 * Metadata for callers that stamp their own (the ledger) or never use it (the ingest, which
 * forwards the message's bytes): validation then does not read the clock.
 */
export const METADATA_STAMPED_LATER: CommandMetadata = Object.freeze({ commandId: '', correlationId: '', now: '' });

/**
 * Validates one inbound message of `loyalty.purchases` and turns it into a command.
 *
 * `raw` is either the message value as received (Buffer / Uint8Array / string: size
 * checked first, then parsed: `oversized`, `not-json`) or an already parsed value.
 * `metadata` is the command's metadata; when absent, commandId = correlationId =
 * `purchase:<purchaseId>` or `refund:<refundId>` and `now` is the current clock. That
 * `now` is provisional: the ledger stamps its own recording time before deciding.
 *
 * Reasons: oversized | not-json | not-object | missing-field | invalid-field, with
 * `details.field` naming the field. Extra fields are ignored (forward compatible).
 * Rules that need the member's state (unknown purchase, refund exceeding what is
 * left, wrong currency, too old) are the decider's: see RejectionCode.
 */
export function validatePurchaseMessage(raw: unknown, metadata?: CommandMetadata): PurchaseValidation {
  let value = raw;
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
    if (bytes > LIMITS.messageMaxBytes) {
      return invalid('oversized', undefined, `message of ${bytes} bytes exceeds ${LIMITS.messageMaxBytes}`);
    }
    try {
      value = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
    } catch {
      return invalid('not-json', undefined, 'message is not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid('not-object', undefined, 'message must be a JSON object');
  }
  try {
    return { ok: true, command: check(value as Record<string, unknown>, metadata) };
  } catch (e) {
    if (e instanceof Invalid) return invalid(e.reason, e.field, e.message);
    throw e;
  }
}
