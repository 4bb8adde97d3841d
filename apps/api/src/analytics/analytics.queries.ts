import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Pool } from 'pg';
import type { AppConfig } from '@loyalty/config';
import type { Programme } from '@loyalty/domain';
import { getAnalyticsDaily, getAnalyticsSummary, getChannelPerformance, getCohorts, getSegments, getTierDistribution } from '@loyalty/read-models';
import { CONFIG, PG_POOL, PROGRAMME } from '../infrastructure/tokens';

export type AnalyticsReport =
  | { kind: 'summary' }
  | { kind: 'daily'; from: string; to: string }
  | { kind: 'tiers' }
  | { kind: 'cohorts' }
  | { kind: 'segments' }
  | { kind: 'channels' };

export class GetAnalyticsQuery {
  constructor(readonly report: AnalyticsReport) {}
}

/** Analytics read the Postgres read model only (Redis holds no history). */
@QueryHandler(GetAnalyticsQuery)
export class GetAnalyticsHandler implements IQueryHandler<GetAnalyticsQuery, unknown> {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(PROGRAMME) private readonly programme: Programme,
  ) {}

  async execute({ report }: GetAnalyticsQuery): Promise<unknown> {
    const schema = this.config.postgres.schema;
    switch (report.kind) {
      case 'summary':
        return getAnalyticsSummary(this.pool, { schema });
      case 'daily':
        return getAnalyticsDaily(this.pool, { schema, from: report.from, to: report.to });
      case 'tiers':
        // Every tier of the programme, 0 where nobody holds it.
        return getTierDistribution(this.pool, { schema, tiers: this.programme.tiers.map((t) => t.name) });
      case 'cohorts':
        return getCohorts(this.pool, { schema });
      case 'segments':
        return getSegments(this.pool, { schema });
      case 'channels':
        return getChannelPerformance(this.pool, { schema });
    }
  }
}
