import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { LeaderboardEntry } from '@loyalty/read-models';
import { RequiresRole } from '../auth/api-key.guard';
import { apiError } from '../common/error.filter';
import { intParam, memberIdParam, periodParam } from '../common/params';
import { GetLeaderboardQuery, GetLeaderboardRankQuery } from './leaderboards.queries';

const BOARDS = ['points', 'spend'];

function boardParam(board: string): string {
  if (!BOARDS.includes(board)) throw apiError(404, 'not_found', `unknown leaderboard ${board}: points or spend`);
  return board;
}

@Controller('v1/leaderboards')
export class LeaderboardsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':board')
  @RequiresRole('reader')
  top(@Param('board') board: string, @Query('period') period?: string, @Query('limit') limit?: string): Promise<LeaderboardEntry[]> {
    return this.queries.execute(new GetLeaderboardQuery(boardParam(board), periodParam(period), intParam('limit', limit, { min: 1, max: 1000, default: 10 })!));
  }

  @Get(':board/members/:id')
  @RequiresRole('reader')
  async rank(@Param('board') board: string, @Param('id') id: string, @Query('period') period?: string): Promise<LeaderboardEntry> {
    const entry = await this.queries.execute<GetLeaderboardRankQuery, LeaderboardEntry | null>(
      new GetLeaderboardRankQuery(boardParam(board), periodParam(period), memberIdParam(id)),
    );
    if (!entry) throw apiError(404, 'not_found', `member ${id} has no score on ${board} for ${periodParam(period)}`);
    return entry;
  }
}
