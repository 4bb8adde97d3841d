import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { QueryBus } from '@nestjs/cqrs';
import type { LeaderboardEntry } from '@loyalty/read-models';
import { apiError } from '../common/error.filter';
import { BoardMemberParams, BoardParams, LeaderboardQuery, PeriodQuery } from '../common/request.dto';
import { LeaderboardEntryView } from '../common/response.dto';
import { Route } from '../common/route.decorator';
import { GetLeaderboardQuery, GetLeaderboardRankQuery } from './leaderboards.queries';

const BOARDS = ['points', 'spend'];

function boardParam(board: string): string {
  if (!BOARDS.includes(board)) throw apiError(404, 'not_found', 'unknown leaderboard: points or spend', { board: board.slice(0, 32) });
  return board;
}

const BOARDS_TEXT = '`points`: points earned less points reversed; `spend`: purchase amounts less refunded amounts (minor units); each counted in the period its event occurred. Ranks 1, 2, 3 …, equal scores ordered by memberId.';

@ApiTags('leaderboards')
@Controller('v1/leaderboards')
export class LeaderboardsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':board')
  @Route('reader', 'The top of a leaderboard', { errors: [404], description: BOARDS_TEXT })
  @ApiResponse({ status: 200, type: [LeaderboardEntryView] })
  top(@Param() { board }: BoardParams, @Query() q: LeaderboardQuery): Promise<LeaderboardEntry[]> {
    return this.queries.execute(new GetLeaderboardQuery(boardParam(board), q.period ?? 'all', q.limit ?? 10));
  }

  @Get(':board/members/:id')
  @Route('reader', "A member's rank and score on a leaderboard", { errors: [404], description: `${BOARDS_TEXT} 404 when the member has no score in that period.` })
  @ApiResponse({ status: 200, type: LeaderboardEntryView })
  async rank(@Param() { board, id }: BoardMemberParams, @Query() q: PeriodQuery): Promise<LeaderboardEntry> {
    const period = q.period ?? 'all';
    const entry = await this.queries.execute<GetLeaderboardRankQuery, LeaderboardEntry | null>(new GetLeaderboardRankQuery(boardParam(board), period, id));
    if (!entry) throw apiError(404, 'not_found', `this member has no score on ${board} for ${period}`, { memberId: id });
    return entry;
  }
}
