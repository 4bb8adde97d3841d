import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { QueryBus } from '@nestjs/cqrs';
import type { Balance } from '@loyalty/read-models';
import { unknownMember } from '../../common/error.filter';
import { BalanceQuery, MemberParams } from '../../common/request.dto';
import { BalanceView } from '../../common/response.dto';
import { Route } from '../../common/route.decorator';
import { GetBalanceQuery } from './get-balance.query';

@ApiTags('members')
@Controller('v1/members')
export class GetBalanceController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id/balance')
  @Route('reader', "A member's balance", {
    errors: [404],
    description: 'From Redis, or Postgres when Redis is not ready, is behind `minSequence`, or lacks the member while it is behind Postgres (checked once a second). Eventually consistent: pass a command\'s `sequence` as `minSequence` to read your own write.',
  })
  @ApiResponse({ status: 200, type: BalanceView })
  async balance(@Param() { id }: MemberParams, @Query() q: BalanceQuery): Promise<Balance> {
    const balance = await this.queries.execute<GetBalanceQuery, Balance | null>(new GetBalanceQuery(id, q.minSequence));
    if (!balance) throw unknownMember(id);
    return balance;
  }
}
