import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Balance } from '@loyalty/read-models';
import { RequiresRole } from '../../auth/api-key.guard';
import { apiError } from '../../common/error.filter';
import { GetBalanceQuery } from './get-balance.query';

export function memberIdParam(id: string): string {
  if (id.length < 1 || id.length > 128) throw apiError(400, 'invalid_member_id', 'memberId must be 1 to 128 characters');
  return id;
}

@Controller('v1/members')
export class GetBalanceController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id/balance')
  @RequiresRole('reader')
  async balance(@Param('id') id: string, @Query('minSequence') minSequence?: string): Promise<Balance> {
    let min: number | undefined;
    if (minSequence !== undefined) {
      if (!/^\d{1,15}$/.test(minSequence)) throw apiError(400, 'invalid_parameter', 'minSequence must be a non-negative integer', { field: 'minSequence' });
      min = Number(minSequence);
    }
    const balance = await this.queries.execute<GetBalanceQuery, Balance | null>(new GetBalanceQuery(memberIdParam(id), min));
    if (!balance) throw apiError(404, 'not_found', `member ${id} is unknown`);
    return balance;
  }
}
