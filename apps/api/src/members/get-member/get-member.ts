import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import type { AppConfig } from '@loyalty/config';
import { getPostgresMember, getStatement, type MemberProfile, type StatementPage } from '@loyalty/read-models';
import { RequiresRole } from '../../auth/api-key.guard';
import { apiError } from '../../common/error.filter';
import { intParam, memberIdParam } from '../../common/params';
import { CONFIG, PG_POOL } from '../../infrastructure/tokens';

export class GetMemberQuery {
  constructor(readonly memberId: string) {}
}
export class GetStatementQuery {
  constructor(readonly memberId: string, readonly limit: number, readonly before?: number) {}
}

@QueryHandler(GetMemberQuery)
export class GetMemberHandler implements IQueryHandler<GetMemberQuery, MemberProfile | null> {
  constructor(@Inject(PG_POOL) private readonly pool: Pool, @Inject(CONFIG) private readonly config: AppConfig) {}
  execute(q: GetMemberQuery) {
    return getPostgresMember(this.pool, { schema: this.config.postgres.schema, memberId: q.memberId });
  }
}

@QueryHandler(GetStatementQuery)
export class GetStatementHandler implements IQueryHandler<GetStatementQuery, StatementPage> {
  constructor(@Inject(PG_POOL) private readonly pool: Pool, @Inject(CONFIG) private readonly config: AppConfig) {}
  execute(q: GetStatementQuery) {
    return getStatement(this.pool, { schema: this.config.postgres.schema, memberId: q.memberId, limit: q.limit, before: q.before ?? null });
  }
}

@Controller('v1/members')
export class GetMemberController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id')
  @RequiresRole('reader')
  async member(@Param('id') id: string): Promise<MemberProfile> {
    const m = await this.queries.execute<GetMemberQuery, MemberProfile | null>(new GetMemberQuery(memberIdParam(id)));
    if (!m) throw apiError(404, 'not_found', `member ${id} is unknown`);
    return m;
  }

  @Get(':id/statement')
  @RequiresRole('reader')
  statement(@Param('id') id: string, @Query('limit') limit?: string, @Query('before') before?: string): Promise<StatementPage> {
    return this.queries.execute(
      new GetStatementQuery(
        memberIdParam(id),
        intParam('limit', limit, { min: 1, max: 500, default: 50 })!,
        intParam('before', before, { min: 1, max: Number.MAX_SAFE_INTEGER }),
      ),
    );
  }
}
