import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Balance } from '@loyalty/read-models';
import { RequiresRole } from '../../auth/api-key.guard';
import { apiError } from '../../common/error.filter';
import { intParam, memberIdParam } from '../../common/params';
import { GetBalanceQuery } from './get-balance.query';

@Controller('v1/members')
export class GetBalanceController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id/balance')
  @RequiresRole('reader')
  async balance(@Param('id') id: string, @Query('minSequence') minSequence?: string): Promise<Balance> {
    const min = intParam('minSequence', minSequence, { min: 0, max: Number.MAX_SAFE_INTEGER });
    const balance = await this.queries.execute<GetBalanceQuery, Balance | null>(new GetBalanceQuery(memberIdParam(id), min));
    if (!balance) throw apiError(404, 'not_found', `member ${id} is unknown`);
    return balance;
  }
}
