// class-validator DTOs for the HTTP boundary. Same rules as validate.ts (limits.ts);
// the ingest uses validatePurchaseMessage for speed.

import 'reflect-metadata'; // class-transformer's @Type reads design-time metadata
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  NotEquals,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  Validate,
} from 'class-validator';
import { Channel } from './events';
import { CHANNEL_VALUES, CURRENCY_PATTERN, LIMITS, PURCHASE_KINDS, PurchaseKind, TEXT_PATTERN } from './limits';
import { ISO_DATE, ISO_WITH_OFFSET, isIsoDate, parseInstant } from './time';

@ValidatorConstraint({ name: 'isInstantWithOffset' })
export class IsInstantWithOffset implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return typeof v === 'string' && !Number.isNaN(parseInstant(v));
  }
  defaultMessage(a: ValidationArguments): string {
    return `${a.property} must be an ISO 8601 date-time with offset`;
  }
}

@ValidatorConstraint({ name: 'isCalendarDate' })
export class IsCalendarDate implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return typeof v === 'string' && isIsoDate(v);
  }
  defaultMessage(a: ValidationArguments): string {
    return `${a.property} must be a date YYYY-MM-DD`;
  }
}

const NO_CONTROL = () => Matches(TEXT_PATTERN, { message: '$property must not contain control characters' });
const ID = [IsString(), Length(1, LIMITS.idMaxLength), NO_CONTROL()];
function Id(): PropertyDecorator {
  return (target, key) => ID.forEach((d) => d(target, key));
}

export class PurchaseItemDto {
  @IsString() @Length(1, LIMITS.textMaxLength) sku!: string;
  @IsString() @Length(1, LIMITS.textMaxLength) category!: string;
  @IsInt() @Min(1) @Max(LIMITS.quantityMax) quantity!: number;
  @IsInt() @Min(0) @Max(LIMITS.unitPriceMax) unitPrice!: number;
}

/** The inbound purchase / refund message (loyalty.purchases, POST /v1/purchases). */
export class PurchaseMessageDto {
  @IsOptional() @IsIn(PURCHASE_KINDS as unknown as string[]) kind?: PurchaseKind;
  @Id() purchaseId!: string;
  @ValidateIf((o: PurchaseMessageDto) => o.kind === 'refund') @Id() refundId?: string;
  @Id() memberId!: string;
  @IsInt() @Min(1) @Max(LIMITS.amountMax) amount!: number;
  @IsString() @Matches(CURRENCY_PATTERN) currency!: string;
  @Matches(ISO_WITH_OFFSET) @Validate(IsInstantWithOffset) occurredAt!: string;
  @IsOptional() @IsIn(CHANNEL_VALUES as unknown as string[]) channel?: Channel;
  @IsOptional() @IsString() @Length(1, LIMITS.textMaxLength) @NO_CONTROL() storeId?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(LIMITS.itemsMax)
  @ValidateNested({ each: true })
  @Type(() => PurchaseItemDto)
  items?: PurchaseItemDto[];
}

/** POST /v1/members */
export class EnrolMemberDto {
  @Id() memberId!: string;
  @IsOptional() @IsString() @Length(1, LIMITS.nameMaxLength) @NO_CONTROL() name?: string;
  @IsOptional() @IsEmail() @Length(3, LIMITS.emailMaxLength) email?: string;
  @IsOptional() @Matches(ISO_DATE) @Validate(IsCalendarDate) birthday?: string;
  @IsOptional() @Id() referredBy?: string;
}

/** POST /v1/members/{id}/redemptions: `{rewardId}` or `{points, reference}`. */
export class RedeemPointsDto {
  @ValidateIf((o: RedeemPointsDto) => o.points === undefined) @Id() rewardId?: string;
  @ValidateIf((o: RedeemPointsDto) => o.rewardId === undefined) @IsInt() @Min(1) @Max(LIMITS.redeemPointsMax) points?: number;
  @ValidateIf((o: RedeemPointsDto) => o.points !== undefined) @Id() reference?: string;
}

/** POST /v1/members/{id}/adjustments (points signed, non-zero). */
export class AdjustPointsDto {
  @IsInt() @NotEquals(0) @Min(-LIMITS.adjustmentMax) @Max(LIMITS.adjustmentMax) points!: number;
  @IsString() @Length(1, LIMITS.reasonMaxLength) @NO_CONTROL() reason!: string;
}

/** Operator commands with an as-of date (expiry, tier review). */
export class AsOfDto {
  @Matches(ISO_WITH_OFFSET) @Validate(IsInstantWithOffset) asOf!: string;
}

/** The Idempotency-Key header. */
export const IDEMPOTENCY_KEY_MAX = LIMITS.idMaxLength;
