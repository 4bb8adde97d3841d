import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DecideMemberHandler } from './decide/decide-member.handler';

@Module({ imports: [CqrsModule.forRoot()], providers: [DecideMemberHandler] })
export class LedgerModule {}
