import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ErrorFilter } from './common/error.filter';
import { HealthController } from './health/health.controller';
import { InfrastructureModule } from './infrastructure/infrastructure.module';
import { GetBalanceController } from './members/get-balance/get-balance.controller';
import { GetBalanceHandler } from './members/get-balance/get-balance.handler';
import { PublishPurchaseController } from './purchases/publish-purchase/publish-purchase.controller';

@Module({
  imports: [CqrsModule.forRoot(), InfrastructureModule],
  controllers: [HealthController, PublishPurchaseController, GetBalanceController],
  providers: [
    GetBalanceHandler,
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_FILTER, useClass: ErrorFilter },
  ],
})
export class AppModule {}
