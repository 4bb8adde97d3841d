import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import type { AppConfig } from '@loyalty/config';
import { getPostgresMember, getStatement, type MemberProfile, type StatementPage } from '@loyalty/read-models';
import { unknownMember } from '../../common/error.filter';
import { MemberParams, NoQuery, StatementQuery } from '../../common/request.dto';
import { MemberView, StatementView } from '../../common/response.dto';
import { Route } from '../../common/route.decorator';
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

@ApiTags('members')
@Controller('v1/members')
export class GetMemberController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id')
  @Route('reader', "A member's profile, tier and balance", { errors: [404] })
  @ApiResponse({ status: 200, type: MemberView })
  async member(@Param() { id }: MemberParams, @NoQuery() _q: object): Promise<MemberProfile> {
    const m = await this.queries.execute<GetMemberQuery, MemberProfile | null>(new GetMemberQuery(id));
    if (!m) throw unknownMember(id);
    return m;
  }

  @Get(':id/statement')
  @Route('reader', "A member's ledger entries, newest first", {
    errors: [404],
    description: 'Each entry has `pointsDelta` and `balanceAfter`; keyset pagination: pass `nextBefore` as `before` for the next page. 404 for a member the read model does not know (yet), as for the balance.',
  })
  @ApiResponse({ status: 200, type: StatementView })
  async statement(@Param() { id }: MemberParams, @Query() q: StatementQuery): Promise<StatementPage> {
    const page = await this.queries.execute<GetStatementQuery, StatementPage>(new GetStatementQuery(id, q.limit ?? 50, q.before));
    // Every member's first entry is MemberEnrolled: a first page with none is a member nobody enrolled.
    if (page.entries.length === 0 && q.before === undefined) throw unknownMember(id);
    return page;
  }
}
