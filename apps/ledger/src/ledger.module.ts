import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DecideBatchHandler } from './decide/decide-batch.handler';

@Module({ imports: [CqrsModule.forRoot()], providers: [DecideBatchHandler] })
export class LedgerModule {}
