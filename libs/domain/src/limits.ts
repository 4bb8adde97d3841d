// The one definition of the input rules, shared by the hot-path validator
// (validate.ts, used by the ingest) and the class-validator DTOs (dto.ts, HTTP).

import { Channel } from './events';

export const LIMITS = {
  idMaxLength: 128,
  amountMax: 1_000_000_000_000,
  itemsMax: 1000,
  quantityMax: 1_000_000,
  unitPriceMax: 1_000_000_000_000,
  textMaxLength: 128,
  nameMaxLength: 200,
  emailMaxLength: 254,
  reasonMaxLength: 500,
  adjustmentMax: 1_000_000_000,
  redeemPointsMax: 1_000_000_000,
  /** An inbound message larger than this is dead-lettered `oversized` unparsed. */
  messageMaxBytes: 64 * 1024,
} as const;

/** Ids and short texts: no control characters (a NUL cannot even be stored in Postgres text). */
export const TEXT_PATTERN = /^[^\u0000-\u001f\u007f]*$/;

export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
export const CHANNEL_VALUES: readonly Channel[] = ['store', 'online', 'app', 'partner'];
export const PURCHASE_KINDS = ['purchase', 'refund'] as const;
export type PurchaseKind = (typeof PURCHASE_KINDS)[number];

/** Machine-readable reasons for a refused inbound message (the DLQ reason header). */
export type InvalidReason = 'oversized' | 'not-json' | 'not-object' | 'missing-field' | 'invalid-field';
