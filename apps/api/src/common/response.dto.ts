// What the API answers, for the OpenAPI document only (the read models and the gateway
// build the actual objects; the e2e tests check both agree on the routes they call).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ErrorBody {
  @ApiProperty({ description: 'machine-readable code', example: 'invalid_request' })
  error!: string;
  @ApiProperty({ description: 'for people', example: 'points must be an integer number' })
  message!: string;
  @ApiPropertyOptional({ description: 'e.g. `{fields: [{field, problems}]}` for a bad body, `{commandId, outcomeUrl}` for 503 outcome_pending, `{retryAfterSeconds}` for 429', type: 'object', additionalProperties: true, example: { fields: [{ field: 'points', problems: ['points must be an integer number'] }] } })
  details?: unknown;
}

export class BalanceView {
  @ApiProperty({ example: 'm-1001' }) memberId!: string;
  @ApiProperty({ type: 'integer', description: 'earned − redeemed − expired − reversed + adjusted', example: 1250 }) available!: number;
  @ApiProperty({ type: 'integer', description: 'every PointsEarned, welcome included', example: 1800 }) lifetimeEarned!: number;
  @ApiProperty({ type: 'integer', example: 500 }) lifetimeRedeemed!: number;
  @ApiProperty({ type: 'integer', example: 0 }) lifetimeExpired!: number;
  @ApiProperty({ type: 'integer', example: 30 }) lifetimeReversed!: number;
  @ApiProperty({ type: 'integer', description: 'signed sum of adjustments', example: -20 }) lifetimeAdjusted!: number;
  @ApiProperty({ type: String, nullable: true, example: 'Silver' }) tier!: string | null;
  @ApiProperty({ type: 'integer', description: "the member's last event number", example: 17 }) sequence!: number;
}

export class MemberView extends BalanceView {
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2025-01-15T09:00:00.000Z' }) enrolledAt!: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['api', 'purchase'], example: 'api' }) source!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' }) name!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'ada@example.com' }) email!: string | null;
  @ApiProperty({ type: String, nullable: true, example: '1990-12-10' }) birthday!: string | null;
  @ApiProperty({ type: String, nullable: true, example: null }) referredBy!: string | null;
  @ApiProperty({ type: 'integer', example: 12 }) purchaseCount!: number;
  @ApiProperty({ type: 'integer', description: 'purchases less refunds, minor units', example: 184_000 }) spend!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2025-06-01T12:30:00.000Z' }) lastPurchaseAt!: string | null;
}

export class StatementEntryView {
  @ApiProperty({ type: 'integer', example: 17 }) sequence!: number;
  @ApiProperty({ format: 'uuid', example: '0b8f8a52-3f0e-4b8e-9a56-2d1f0c7f6a11' }) eventId!: string;
  @ApiProperty({ example: 'PointsEarned' }) type!: string;
  @ApiProperty({ type: 'integer', example: 12 }) pointsDelta!: number;
  @ApiProperty({ type: 'integer', example: 1250 }) balanceAfter!: number;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
  @ApiProperty({ type: String, nullable: true, example: 'purchase:p-2025-000123' }) causationId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the event data (CONTRACT, loyalty.events)', example: { points: 12, cause: 'purchase' } }) data!: Record<string, unknown>;
}

export class StatementView {
  @ApiProperty({ example: 'm-1001' }) memberId!: string;
  @ApiProperty({ type: [StatementEntryView], description: 'newest first' }) entries!: StatementEntryView[];
  @ApiProperty({ type: 'integer', nullable: true, description: 'pass as `before` for the next, older page; null at the end', example: 5 }) nextBefore!: number | null;
}

export class LeaderboardEntryView {
  @ApiProperty({ type: 'integer', example: 1 }) rank!: number;
  @ApiProperty({ example: 'm-1001' }) memberId!: string;
  @ApiProperty({ type: 'integer', example: 5400 }) score!: number;
}

export class RewardView {
  @ApiProperty({ example: 'coffee' }) id!: string;
  @ApiProperty({ type: 'integer', example: 100 }) points!: number;
  @ApiProperty({ example: 'Coffee' }) name!: string;
}

export class RewardsView {
  @ApiProperty({ example: 'default' }) programme!: string;
  @ApiProperty({ example: '1' }) version!: string;
  @ApiProperty({ type: [RewardView] }) rewards!: RewardView[];
}

export class PurchaseAccepted {
  @ApiProperty({ enum: [true] }) accepted!: true;
  @ApiProperty({ enum: ['purchase', 'refund'] }) kind!: string;
  @ApiProperty({ example: 'p-2025-000123' }) purchaseId!: string;
  @ApiPropertyOptional({ example: 'r-2025-000007' }) refundId?: string;
}

export class EnrolResult {
  @ApiProperty({ example: 'm-1001' }) memberId!: string;
  @ApiProperty({ type: 'integer', description: 'the member sequence the command produced (use as minSequence)', example: 2 }) sequence!: number;
}

export class RedemptionResult {
  @ApiProperty({ example: 'rd-7f3a' }) redemptionId!: string;
  @ApiProperty({ type: 'integer', example: 100 }) pointsSpent!: number;
  @ApiProperty({ type: 'integer', example: 1150 }) available!: number;
  @ApiProperty({ type: 'integer', example: 18 }) sequence!: number;
}

export class AdjustmentResult {
  @ApiPropertyOptional({ example: 'adj-91c2' }) adjustmentId?: string;
  @ApiProperty({ type: 'integer', example: -120 }) points!: number;
  @ApiProperty({ type: 'integer', example: 1130 }) available!: number;
  @ApiProperty({ type: 'integer', example: 19 }) sequence!: number;
}

class RejectionView {
  @ApiProperty({ example: 'insufficient-points' }) code!: string;
  @ApiProperty({ example: 'needs 500 points, has 120' }) message!: string;
}

export class CommandOutcomeView {
  @ApiProperty({ example: 'redeem:m-1001:order-7781:8BkCqJ1vXyZ0aQ2e' }) commandId!: string;
  @ApiProperty({ example: 'm-1001' }) memberId!: string;
  @ApiProperty({ enum: ['accepted', 'duplicate', 'rejected'] }) status!: string;
  @ApiProperty({ type: 'integer', example: 18 }) sequence!: number;
  @ApiProperty({ type: 'integer', description: 'events the command produced', example: 1 }) events!: number;
  @ApiPropertyOptional({ type: RejectionView }) rejection?: RejectionView;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { redemptionId: 'rd-7f3a', pointsSpent: 100, available: 1150 } }) result?: Record<string, unknown>;
}

class LiabilityView {
  @ApiProperty({ type: 'integer', example: 98_500 }) minorUnits!: number;
  @ApiProperty({ example: 1 }) pointValueMinor!: number;
}

export class SummaryView {
  @ApiProperty({ type: 'integer', example: 1000 }) members!: number;
  @ApiProperty({ type: 'integer', description: 'a purchase in the last 90 days', example: 640 }) activeMembers!: number;
  @ApiProperty({ type: 'integer', example: 150_000 }) pointsIssued!: number;
  @ApiProperty({ type: 'integer', example: 40_000 }) pointsRedeemed!: number;
  @ApiProperty({ type: 'integer', example: 9_000 }) pointsExpired!: number;
  @ApiProperty({ type: 'integer', example: 2_000 }) pointsReversed!: number;
  @ApiProperty({ type: 'integer', example: -500 }) pointsAdjusted!: number;
  @ApiProperty({ type: 'integer', description: 'sum of positive balances', example: 98_500 }) pointsOutstanding!: number;
  @ApiProperty({ type: 'integer', description: 'sum of negative balances (≤ 0)', example: 0 }) pointsOwedByMembers!: number;
  @ApiProperty({ type: 'integer', example: 98_500 }) lotsOutstanding!: number;
  @ApiProperty({ type: LiabilityView }) liability!: LiabilityView;
  @ApiProperty({ format: 'date-time' }) asOf!: string;
}

export class DailyRowView {
  @ApiProperty({ format: 'date', example: '2025-06-01' }) day!: string;
  @ApiProperty({ type: 'integer', example: 310 }) purchases!: number;
  @ApiProperty({ type: 'integer', description: 'minor units', example: 1_550_000 }) revenue!: number;
  @ApiProperty({ type: 'integer', example: 4 }) refunds!: number;
  @ApiProperty({ type: 'integer', example: 12_000 }) refunded!: number;
  @ApiProperty({ type: 'integer', example: 1_538_000 }) netRevenue!: number;
  @ApiProperty({ type: 'integer', example: 16_200 }) pointsIssued!: number;
  @ApiProperty({ type: 'integer', example: 3_100 }) pointsRedeemed!: number;
  @ApiProperty({ type: 'integer', example: 400 }) pointsExpired!: number;
  @ApiProperty({ type: 'integer', example: 120 }) pointsReversed!: number;
  @ApiProperty({ type: 'integer', example: 0 }) pointsAdjusted!: number;
  @ApiProperty({ type: 'integer', example: 21 }) redemptions!: number;
  @ApiProperty({ type: 'integer', example: 35 }) newMembers!: number;
}

export class TierRowView {
  @ApiProperty({ type: String, nullable: true, example: 'Gold' }) tier!: string | null;
  @ApiProperty({ type: 'integer', example: 120 }) members!: number;
}

export class ChannelRowView {
  @ApiProperty({ type: String, nullable: true, example: 'online' }) channel!: string | null;
  @ApiProperty({ type: 'integer', example: 1200 }) purchases!: number;
  @ApiProperty({ type: 'integer', example: 410 }) purchasers!: number;
  @ApiProperty({ type: 'integer', description: 'gross, minor units', example: 5400000 }) revenue!: number;
  @ApiProperty({ type: 'integer', description: 'refunded, minor units', example: 120000 }) refunded!: number;
  @ApiProperty({ type: 'integer', description: 'revenue - refunded, minor units', example: 5280000 }) netRevenue!: number;
  @ApiProperty({ type: 'integer', description: 'net revenue per purchase, rounded, minor units', example: 4400 }) avgNetBasket!: number;
  @ApiProperty({ type: 'integer', description: 'points the purchases earned, net of reversals', example: 52800 }) pointsEarned!: number;
  @ApiProperty({ description: 'share of all net revenue, 0..1', example: 0.62 }) revenueShare!: number;
}

class CohortMonthView {
  @ApiProperty({ example: '2025-03' }) month!: string;
  @ApiProperty({ type: 'integer', example: 2 }) monthsSince!: number;
  @ApiProperty({ type: 'integer', example: 41 }) activeMembers!: number;
  @ApiProperty({ description: 'share of the cohort purchasing in that month, 0..1', example: 0.41 }) retention!: number;
}

export class CohortView {
  @ApiProperty({ description: 'enrolment month', example: '2025-01' }) cohort!: string;
  @ApiProperty({ type: 'integer', example: 100 }) size!: number;
  @ApiProperty({ type: [CohortMonthView] }) months!: CohortMonthView[];
}

class SegmentView {
  @ApiProperty({ example: 'champions' }) segment!: string;
  @ApiProperty({ type: 'integer', example: 80 }) members!: number;
  @ApiProperty({ type: 'integer', example: 900_000 }) revenue!: number;
  @ApiProperty({ example: 0.42 }) revenueShare!: number;
}

class Top20View {
  @ApiProperty({ type: 'integer', example: 700 }) purchasers!: number;
  @ApiProperty({ type: 'integer', example: 140 }) topMembers!: number;
  @ApiProperty({ type: 'integer', example: 1_200_000 }) topRevenue!: number;
  @ApiProperty({ type: 'integer', example: 2_000_000 }) totalRevenue!: number;
  @ApiProperty({ example: 0.6 }) share!: number;
}

export class SegmentsView {
  @ApiProperty({ type: [SegmentView] }) segments!: SegmentView[];
  @ApiProperty({ type: Top20View, description: 'revenue share of the top 20 % of purchasing members' }) top20!: Top20View;
  @ApiProperty({ format: 'date-time' }) asOf!: string;
}

class PartitionLagView {
  @ApiProperty({ type: 'integer', example: 0 }) partition!: number;
  @ApiProperty({ type: String, nullable: true, example: '1532' }) committed!: string | null;
  @ApiProperty({ example: '1532' }) head!: string;
  @ApiProperty({ type: 'integer', example: 0 }) lag!: number;
  @ApiProperty({ enum: ['caught-up', 'behind', 'not-started'] }) status!: string;
}

export class StageLagView {
  @ApiProperty({ enum: ['ingest', 'ledger', 'postgres', 'redis'] }) stage!: string;
  @ApiProperty({ example: 'loyalty.events' }) topic!: string;
  @ApiProperty({ type: [PartitionLagView] }) partitions!: PartitionLagView[];
  @ApiProperty({ type: 'integer', example: 0 }) lag!: number;
  @ApiProperty({ enum: ['caught-up', 'behind', 'not-started'] }) status!: string;
}

export class ProjectionsView {
  @ApiProperty({ type: [StageLagView] }) stages!: StageLagView[];
  @ApiProperty({ type: 'integer', description: '0 means all that was published is visible', example: 0 }) lag!: number;
}

class StageFreshnessView {
  @ApiProperty({ enum: ['ingest', 'ledger', 'postgres', 'redis'] }) stage!: string;
  @ApiProperty({ type: 'integer', example: 0 }) lag!: number;
  @ApiProperty({ enum: ['caught-up', 'behind', 'not-started'] }) status!: string;
}

export class FreshnessView {
  @ApiProperty({ type: [StageFreshnessView] }) stages!: StageFreshnessView[];
  @ApiProperty({ type: 'integer', description: 'messages published but not yet visible in the read models', example: 0 }) lag!: number;
  @ApiProperty({ format: 'date-time' }) asOf!: string;
}

class CheckView {
  @ApiProperty({ enum: ['up', 'down'] }) status!: string;
  @ApiProperty({ type: 'integer', example: 2 }) ms!: number;
  @ApiPropertyOptional({ example: 'no answer in 2000 ms' }) error?: string;
}

class ChecksView {
  @ApiProperty({ type: CheckView }) kafka!: CheckView;
  @ApiProperty({ type: CheckView }) postgres!: CheckView;
  @ApiProperty({ type: CheckView }) redis!: CheckView;
}

export class HealthView {
  @ApiProperty({ enum: ['ok', 'degraded'] }) status!: string;
  @ApiProperty({ type: ChecksView }) checks!: ChecksView;
}
