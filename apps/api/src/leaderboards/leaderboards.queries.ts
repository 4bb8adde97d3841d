import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type Redis from 'ioredis';
import type { AppConfig } from '@loyalty/config';
import { getLeaderboard, getLeaderboardRank, type LeaderboardEntry } from '@loyalty/read-models';
import { CONFIG, REDIS } from '../infrastructure/tokens';

export class GetLeaderboardQuery {
  constructor(readonly board: string, readonly period: string, readonly limit: number) {}
}
export class GetLeaderboardRankQuery {
  constructor(readonly board: string, readonly period: string, readonly memberId: string) {}
}

@QueryHandler(GetLeaderboardQuery)
export class GetLeaderboardHandler implements IQueryHandler<GetLeaderboardQuery, LeaderboardEntry[]> {
  constructor(@Inject(REDIS) private readonly redis: Redis, @Inject(CONFIG) private readonly config: AppConfig) {}
  execute(q: GetLeaderboardQuery) {
    return getLeaderboard(this.redis, { prefix: this.config.redis.keyPrefix, board: q.board, period: q.period, limit: q.limit });
  }
}

@QueryHandler(GetLeaderboardRankQuery)
export class GetLeaderboardRankHandler implements IQueryHandler<GetLeaderboardRankQuery, LeaderboardEntry | null> {
  constructor(@Inject(REDIS) private readonly redis: Redis, @Inject(CONFIG) private readonly config: AppConfig) {}
  execute(q: GetLeaderboardRankQuery) {
    return getLeaderboardRank(this.redis, { prefix: this.config.redis.keyPrefix, board: q.board, period: q.period, memberId: q.memberId });
  }
}
