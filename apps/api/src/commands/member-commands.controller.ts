import { Body, Controller, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { createHash, randomUUID } from 'node:crypto';
import { AdjustPointsDto, EnrolMemberDto, IDEMPOTENCY_KEY_MAX, RedeemPointsDto } from '@loyalty/domain';
import type { CommandOutcome } from '@loyalty/kafka';
import { RequiresRole } from '../auth/api-key.guard';
import { apiError } from '../common/error.filter';
import { memberIdParam } from '../common/params';
import { CommandGateway } from './command-gateway';
import { SendMemberCommand } from './member-commands';

function idempotencyKey(raw: string | undefined): string {
  if (!raw) throw apiError(400, 'missing_idempotency_key', 'the Idempotency-Key header is required', { field: 'Idempotency-Key' });
  if (raw.length > IDEMPOTENCY_KEY_MAX) throw apiError(400, 'invalid_idempotency_key', `Idempotency-Key must be at most ${IDEMPOTENCY_KEY_MAX} characters`, { field: 'Idempotency-Key' });
  return raw;
}

/**
 * A command id from the route, the key and the request: a retried request is the same
 * command (answered once), while the same key with another body is a new command that
 * the ledger refuses as an idempotency conflict.
 */
function commandIdFor(kind: string, memberId: string, key: string, body: object): string {
  const digest = createHash('sha256').update(JSON.stringify(body, Object.keys(body).sort())).digest('base64url').slice(0, 16);
  return `${kind}:${memberId}:${key}:${digest}`;
}

@Controller('v1')
export class MemberCommandsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly gateway: CommandGateway,
  ) {}

  @Post('members')
  @HttpCode(201)
  @RequiresRole('writer')
  async enrol(@Body() body: EnrolMemberDto, @Headers('idempotency-key') key?: string) {
    const commandId = key ? commandIdFor('enrol', body.memberId, idempotencyKey(key), body) : `enrol:${body.memberId}:${randomUUID()}`;
    const outcome = await this.commands.execute<SendMemberCommand, CommandOutcome>(new SendMemberCommand(commandId, 'EnrolMember', { ...body }));
    return { memberId: body.memberId, sequence: outcome.sequence, ...(outcome.result ?? {}) };
  }

  @Post('members/:id/redemptions')
  @HttpCode(201)
  @RequiresRole('writer')
  async redeem(@Param('id') id: string, @Body() body: RedeemPointsDto, @Headers('idempotency-key') key?: string) {
    const memberId = memberIdParam(id);
    const k = idempotencyKey(key);
    if ((body.rewardId === undefined) === (body.points === undefined)) {
      throw apiError(400, 'invalid_request', 'give either rewardId or points (with reference)', { field: 'rewardId' });
    }
    const outcome = await this.commands.execute<SendMemberCommand, CommandOutcome>(
      new SendMemberCommand(commandIdFor('redeem', memberId, k, body), 'RedeemPoints', { memberId, idempotencyKey: k, ...body }),
    );
    const r = outcome.result ?? {};
    return { redemptionId: r.redemptionId, pointsSpent: r.pointsSpent, available: r.available, sequence: r.sequence ?? outcome.sequence };
  }

  @Post('members/:id/adjustments')
  @HttpCode(201)
  @RequiresRole('operator')
  async adjust(@Param('id') id: string, @Body() body: AdjustPointsDto, @Headers('idempotency-key') key?: string) {
    const memberId = memberIdParam(id);
    const k = idempotencyKey(key);
    const outcome = await this.commands.execute<SendMemberCommand, CommandOutcome>(
      new SendMemberCommand(commandIdFor('adjust', memberId, k, body), 'AdjustPoints', { memberId, idempotencyKey: k, points: body.points, reason: body.reason, actor: 'api' }),
    );
    const r = outcome.result ?? {};
    return { adjustmentId: r.adjustmentId, points: r.points, available: r.available, sequence: r.sequence ?? outcome.sequence };
  }

  /** The outcome of a command whose request timed out (503 outcome_pending). */
  @Get('commands/:commandId')
  @RequiresRole('reader')
  outcome(@Param('commandId') commandId: string): CommandOutcome {
    const outcome = this.gateway.outcomeOf(commandId);
    if (!outcome) throw apiError(404, 'not_found', `no outcome known for command ${commandId} (yet)`);
    return outcome;
  }
}
