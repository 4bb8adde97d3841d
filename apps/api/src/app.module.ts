import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ErrorFilter } from './common/error.filter';
import { createValidationPipe } from './common/validation';
import { HealthController } from './health/health.controller';
import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { GetBalanceController } from './members/get-balance/get-balance.controller';
import { GetBalanceHandler } from './members/get-balance/get-balance.handler';
import { AnalyticsController } from './analytics/analytics.controller';
import { GetAnalyticsHandler } from './analytics/analytics.queries';
import { LeaderboardsController } from './leaderboards/leaderboards.controller';
import { GetLeaderboardHandler, GetLeaderboardRankHandler } from './leaderboards/leaderboards.queries';
import { GetMemberController, GetMemberHandler, GetStatementHandler } from './members/get-member/get-member';
import { ProjectionsController } from './projections/projections.controller';
import { RewardsController } from './rewards/rewards.controller';
import { CommandGateway } from './commands/command-gateway';
import { SendMemberCommandHandler } from './commands/member-commands';
import { MemberCommandsController } from './commands/member-commands.controller';
import { PublishPurchaseController } from './purchases/publish-purchase/publish-purchase.controller';
import { ApiKeyStore } from './auth/api-key-store';
import { RateLimiter } from './auth/rate-limiter';
import { DashboardController } from './dashboard/dashboard.controller';
import { MetricsController } from './health/metrics';
import { PipelineLag } from './projections/pipeline-lag';
import { PG_POOL } from './infrastructure/tokens';
import type { Pool } from 'pg';

@Module({
  imports: [CqrsModule.forRoot(), InfrastructureModule],
  controllers: [
    GetBalanceController,
    LeaderboardsController,
    GetMemberController,
    HealthController,
    MetricsController,
    DashboardController,
    PublishPurchaseController,
    MemberCommandsController,
    AnalyticsController,
    RewardsController,
    ProjectionsController,
  ],
  providers: [
    CommandGateway,
    PipelineLag,
    RateLimiter,
    { provide: ApiKeyStore, inject: [PG_POOL], useFactory: (pool: Pool) => new ApiKeyStore(pool) },
    SendMemberCommandHandler,
    GetBalanceHandler,
    GetMemberHandler,
    GetStatementHandler,
    GetLeaderboardHandler,
    GetLeaderboardRankHandler,
    GetAnalyticsHandler,
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_FILTER, useClass: ErrorFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
  ],
})
export class AppModule {}
