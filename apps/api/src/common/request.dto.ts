// What the API accepts, as class-validator DTOs the ValidationPipe checks (unknown fields,
// parameters and query keys refused, 400 naming the field) and @nestjs/swagger documents.
// Bodies EXTEND the domain's DTOs (libs/domain/src/dto.ts): their rules stay there, with
// the limits of LIMITS; here they only get documented, with the same constants.
import { Query, type PipeTransform } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min, Validate } from 'class-validator';
import {
  AdjustPointsDto,
  CHANNEL_VALUES,
  EnrolMemberDto,
  IsCalendarDate,
  LIMITS,
  PURCHASE_KINDS,
  PurchaseItemDto,
  PurchaseMessageDto,
  RedeemPointsDto,
} from '@loyalty/domain';
import { apiError } from './error.filter';

type Docs = Record<string, ApiPropertyOptions & { optional?: boolean }>;

/** Documents the inherited properties of a DTO subclass (the rules come from its parent). */
function documented<T extends abstract new (...a: any[]) => object>(cls: T, docs: Docs): T {
  for (const [key, { optional, ...opts }] of Object.entries(docs)) {
    (optional ? ApiPropertyOptional(opts) : ApiProperty(opts))(cls.prototype, key);
  }
  return cls;
}

const id = (description: string, example: string) => ({ type: String, minLength: 1, maxLength: LIMITS.idMaxLength, description, example });

// ---------------------------------------------------------------------------- bodies

export class PurchaseItemBody extends PurchaseItemDto {}
documented(PurchaseItemBody, {
  sku: { type: String, minLength: 1, maxLength: LIMITS.textMaxLength, example: 'SKU-1234' },
  category: { type: String, minLength: 1, maxLength: LIMITS.textMaxLength, example: 'coffee' },
  quantity: { type: 'integer', minimum: 1, maximum: LIMITS.quantityMax, example: 2 },
  unitPrice: { type: 'integer', minimum: 0, maximum: LIMITS.unitPriceMax, description: 'minor units', example: 450 },
});

/** POST /v1/purchases: the inbound topic's object (CONTRACT); unknown fields are refused over HTTP. */
export class PurchaseBody extends PurchaseMessageDto {}
documented(PurchaseBody, {
  kind: { optional: true, enum: PURCHASE_KINDS as unknown as string[], default: 'purchase', example: 'purchase' },
  purchaseId: id('unique per purchase; a repeat is a no-op; a refund names the purchase it refunds', 'p-2025-000123'),
  refundId: { optional: true, ...id('refunds only, required there: unique per refund', 'r-2025-000007') },
  memberId: id('unknown members are enrolled on first purchase (autoEnroll)', 'm-1001'),
  amount: { type: 'integer', minimum: 1, maximum: LIMITS.amountMax, description: 'minor units (cents for USD)', example: 12_50 },
  currency: { type: String, pattern: '^[A-Z]{3}$', description: "ISO 4217; must be the programme's currency", example: 'USD' },
  occurredAt: { type: String, format: 'date-time', description: 'ISO 8601 with offset: business time of the purchase', example: '2025-06-01T12:30:00Z' },
  channel: { optional: true, enum: CHANNEL_VALUES as unknown as string[], example: 'store' },
  storeId: { optional: true, type: String, minLength: 1, maxLength: LIMITS.textMaxLength, example: 'store-42' },
  items: { optional: true, type: () => [PurchaseItemBody], maxItems: LIMITS.itemsMax, description: 'used by category promotions' },
});

export class EnrolMemberBody extends EnrolMemberDto {}
documented(EnrolMemberBody, {
  memberId: id('the member id of the calling system', 'm-1001'),
  name: { optional: true, type: String, minLength: 1, maxLength: LIMITS.nameMaxLength, example: 'Ada Lovelace' },
  email: { optional: true, type: String, format: 'email', minLength: 3, maxLength: LIMITS.emailMaxLength, example: 'ada@example.com' },
  birthday: { optional: true, type: String, format: 'date', description: 'YYYY-MM-DD; a bonus with the first purchase of that month each year', example: '1990-12-10' },
  referredBy: { optional: true, ...id('an enrolled member who referred this one', 'm-0042') },
});

export class RedeemBody extends RedeemPointsDto {}
documented(RedeemBody, {
  rewardId: { optional: true, ...id('a reward of GET /v1/rewards; give either rewardId or points with reference', 'coffee') },
  points: { optional: true, type: 'integer', minimum: 1, maximum: LIMITS.redeemPointsMax, description: 'points to spend (with reference)', example: 250 },
  reference: { optional: true, ...id('what the points paid for (required with points)', 'order-7781') },
});

export class AdjustBody extends AdjustPointsDto {}
documented(AdjustBody, {
  points: { type: 'integer', minimum: -LIMITS.adjustmentMax, maximum: LIMITS.adjustmentMax, not: { enum: [0] }, description: 'signed, non-zero; may take the balance below zero', example: -120 },
  reason: { type: String, minLength: 1, maxLength: LIMITS.reasonMaxLength, example: 'goodwill after a late delivery' },
});

// ---------------------------------------------------------------------------- path parameters

const MemberId = () => (t: object, k: string | symbol) => {
  IsString()(t, k);
  Length(1, LIMITS.idMaxLength)(t, k);
  ApiProperty({ type: String, minLength: 1, maxLength: LIMITS.idMaxLength, description: 'member id', example: 'm-1001' })(t, k);
};

export class MemberParams {
  @MemberId() id!: string;
}

export class BoardParams {
  @ApiProperty({ enum: ['points', 'spend'], description: 'points: earned less reversed; spend: purchases less refunds (minor units)', example: 'points' })
  @IsString()
  @Length(1, 32)
  board!: string;
}

export class BoardMemberParams extends BoardParams {
  @MemberId() id!: string;
}

export const COMMAND_ID_MAX = 512;
export class CommandParams {
  @ApiProperty({ type: String, maxLength: COMMAND_ID_MAX, description: 'details.commandId of a 503 outcome_pending', example: 'redeem:m-1001:order-7781:8BkCqJ1vXyZ0aQ2e' })
  @IsString()
  @Length(1, COMMAND_ID_MAX)
  commandId!: string;
}

// ---------------------------------------------------------------------------- query strings

/** "12" → 12; anything else is left as it is for @IsInt to refuse ("1.5", "1e3", "abc", arrays). */
const IntString = () => Transform(({ value }) => (typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value));
const PERIOD = /^(all|\d{4}-(0[1-9]|1[0-2]))$/;

/** For routes that take no query parameters: any given is refused, naming it. */
class RejectQueryPipe implements PipeTransform {
  transform(value: unknown): unknown {
    const keys = value && typeof value === 'object' ? Object.keys(value) : [];
    if (keys.length > 0) {
      const fields = keys.slice(0, 10).map((k) => ({ field: k.slice(0, 64), problems: [`query parameter ${k.slice(0, 64)} should not exist`] }));
      throw apiError(400, 'invalid_request', fields.map((f) => f.problems[0]).join('; '), { fields });
    }
    return value;
  }
}
export const NoQuery = () => Query(new RejectQueryPipe());

export class BalanceQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: "wait (at most 5 s) until the read model shows this member sequence (a command response's `sequence`)", example: 7 })
  @IsOptional() @IntString() @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  minSequence?: number;
}

export class StatementQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50, example: 50 })
  @IsOptional() @IntString() @IsInt() @Min(1) @Max(500)
  limit?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'entries with a sequence below this: the `nextBefore` of the previous page', example: 42 })
  @IsOptional() @IntString() @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER)
  before?: number;
}

export class PeriodQuery {
  @ApiPropertyOptional({ type: String, pattern: PERIOD.source, default: 'all', description: '`all` or a month `YYYY-MM` (the month the event occurred)', example: '2025-06' })
  @IsOptional() @IsString() @Matches(PERIOD, { message: 'period must be all or YYYY-MM' })
  period?: string;
}

export class LeaderboardQuery extends PeriodQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 10, example: 10 })
  @IsOptional() @IntString() @IsInt() @Min(1) @Max(1000)
  limit?: number;
}

export class DailyQuery {
  @ApiPropertyOptional({ type: String, format: 'date', description: 'first day (UTC), default 29 days before `to`; at most ten years per request', example: '2025-06-01' })
  @IsOptional() @IsString() @Validate(IsCalendarDate)
  from?: string;

  @ApiPropertyOptional({ type: String, format: 'date', description: 'last day (UTC), default today', example: '2025-06-30' })
  @IsOptional() @IsString() @Validate(IsCalendarDate)
  to?: string;
}

/** The Idempotency-Key header (documented per route). */
export const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  description: `1..${LIMITS.idMaxLength} characters; a retried request with the same key and body gets the first answer, the same key with another body a 409`,
  schema: { type: 'string', minLength: 1, maxLength: LIMITS.idMaxLength, example: 'order-7781-redeem' },
} as const;
