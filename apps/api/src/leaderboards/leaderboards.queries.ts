import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type Redis from 'ioredis';
import { getLeaderboard, getLeaderboardRank, type LeaderboardEntry } from '@loyalty/read-models';
import { ActiveRedisPrefix } from '../infrastructure/active-redis-prefix';
import { REDIS } from '../infrastructure/tokens';

export class GetLeaderboardQuery {
  constructor(readonly board: string, readonly period: string, readonly limit: number) {}
}
export class GetLeaderboardRankQuery {
  constructor(readonly board: string, readonly period: string, readonly memberId: string) {}
}

@QueryHandler(GetLeaderboardQuery)
export class GetLeaderboardHandler implements IQueryHandler<GetLeaderboardQuery, LeaderboardEntry[]> {
  constructor(@Inject(REDIS) private readonly redis: Redis, private readonly prefix: ActiveRedisPrefix) {}
  async execute(q: GetLeaderboardQuery) {
    return getLeaderboard(this.redis, { prefix: await this.prefix.get(), board: q.board, period: q.period, limit: q.limit });
  }
}

@QueryHandler(GetLeaderboardRankQuery)
export class GetLeaderboardRankHandler implements IQueryHandler<GetLeaderboardRankQuery, LeaderboardEntry | null> {
  constructor(@Inject(REDIS) private readonly redis: Redis, private readonly prefix: ActiveRedisPrefix) {}
  async execute(q: GetLeaderboardRankQuery) {
    return getLeaderboardRank(this.redis, { prefix: await this.prefix.get(), board: q.board, period: q.period, memberId: q.memberId });
  }
}
