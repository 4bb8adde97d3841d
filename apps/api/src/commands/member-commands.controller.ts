import { Body, Controller, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus } from '@nestjs/cqrs';
import { createHash, randomUUID } from 'node:crypto';
import { IDEMPOTENCY_KEY_MAX } from '@loyalty/domain';
import type { CommandOutcome } from '@loyalty/kafka';
import { CurrentPrincipal, type Principal } from '../auth/api-key.guard';
import { apiError } from '../common/error.filter';
import { AdjustBody, CommandParams, EnrolMemberBody, IDEMPOTENCY_HEADER, MemberParams, NoQuery, RedeemBody } from '../common/request.dto';
import { AdjustmentResult, CommandOutcomeView, EnrolResult, RedemptionResult } from '../common/response.dto';
import { Route } from '../common/route.decorator';
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

/** Who made an adjustment, as the event records it: the API key's name and id, never the key. */
export function actorOf(p: Principal): string {
  return p.id === 'bootstrap' ? 'api-key:bootstrap' : `api-key:${p.name} (${p.id})`;
}

const WAITS = 'Sent to loyalty.commands and answered with the ledger\'s outcome (bounded wait, COMMAND_TIMEOUT_MS); on a timeout a 503 `outcome_pending` gives `details.outcomeUrl`: ask there, never resend with another key.';

@ApiTags('members')
@Controller('v1')
export class MemberCommandsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly gateway: CommandGateway,
  ) {}

  @Post('members')
  @HttpCode(201)
  @Route('writer', 'Enrol a member', { errors: [409, 413, 422, 503], description: `${WAITS} 409 \`already_enrolled\` when the member exists.` })
  @ApiHeader({ ...IDEMPOTENCY_HEADER, required: false })
  @ApiBody({ type: EnrolMemberBody })
  @ApiResponse({ status: 201, type: EnrolResult })
  async enrol(@Body() body: EnrolMemberBody, @NoQuery() _q: object, @Headers('idempotency-key') key?: string) {
    const commandId = key ? commandIdFor('enrol', body.memberId, idempotencyKey(key), body) : `enrol:${body.memberId}:${randomUUID()}`;
    const outcome = await this.commands.execute<SendMemberCommand, CommandOutcome>(new SendMemberCommand(commandId, 'EnrolMember', { ...body }));
    return { memberId: body.memberId, sequence: outcome.sequence, ...(outcome.result ?? {}) };
  }

  @Post('members/:id/redemptions')
  @HttpCode(201)
  @Route('writer', 'Redeem points: a reward, or points with a reference', {
    errors: [404, 409, 413, 422, 503],
    description: `${WAITS} Never below zero: 422 \`insufficient_points\`. A repeated Idempotency-Key with the same body returns the first answer (a 422 included), with another body 409, within the de-duplication window (90 days by default): a 422 for points short or an unknown reward is recorded in the ledger (event RedemptionRefused, no points move), so every API instance gives it again, after restarts too.`,
  })
  @ApiHeader({ ...IDEMPOTENCY_HEADER, required: true })
  @ApiBody({ type: RedeemBody })
  @ApiResponse({ status: 201, type: RedemptionResult })
  async redeem(@Param() { id: memberId }: MemberParams, @Body() body: RedeemBody, @NoQuery() _q: object, @Headers('idempotency-key') key?: string) {
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
  @Route('operator', 'Adjust points (signed), with a reason', {
    errors: [404, 409, 413, 503],
    description: `${WAITS} May take the balance below zero. The event records the API key (name and id) as the actor.`,
  })
  @ApiHeader({ ...IDEMPOTENCY_HEADER, required: true })
  @ApiBody({ type: AdjustBody })
  @ApiResponse({ status: 201, type: AdjustmentResult })
  async adjust(@Param() { id: memberId }: MemberParams, @Body() body: AdjustBody, @NoQuery() _q: object, @CurrentPrincipal() who: Principal, @Headers('idempotency-key') key?: string) {
    const k = idempotencyKey(key);
    const outcome = await this.commands.execute<SendMemberCommand, CommandOutcome>(
      new SendMemberCommand(commandIdFor('adjust', memberId, k, body), 'AdjustPoints', { memberId, idempotencyKey: k, points: body.points, reason: body.reason, actor: actorOf(who) }),
    );
    const r = outcome.result ?? {};
    return { adjustmentId: r.adjustmentId, points: r.points, available: r.available, sequence: r.sequence ?? outcome.sequence };
  }

  /** The outcome of a command whose request timed out (503 outcome_pending). */
  @Get('commands/:commandId')
  @ApiTags('commands')
  @Route('reader', "A command's outcome, after a 503 outcome_pending", {
    errors: [404],
    description: 'Outcomes this API instance has seen since it started (the most recent 50,000); 404 while not known yet.',
  })
  @ApiResponse({ status: 200, type: CommandOutcomeView })
  outcome(@Param() { commandId }: CommandParams, @NoQuery() _q: object): CommandOutcome {
    const outcome = this.gateway.outcomeOf(commandId);
    if (!outcome) throw apiError(404, 'not_found', 'no outcome known for this command (yet)', { commandId });
    return outcome;
  }
}
