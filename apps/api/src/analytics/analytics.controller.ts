import { Controller, Get, Query } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { QueryBus } from '@nestjs/cqrs';
import { apiError } from '../common/error.filter';
import { DailyQuery, NoQuery } from '../common/request.dto';
import { ChannelRowView, CohortView, DailyRowView, FreshnessView, SegmentsView, SummaryView, TierRowView } from '../common/response.dto';
import { Route } from '../common/route.decorator';
import { PipelineLag } from '../projections/pipeline-lag';
import { GetAnalyticsQuery } from './analytics.queries';

const DAY_MS = 86_400_000;

@ApiTags('analytics')
@Controller('v1/analytics')
export class AnalyticsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly lag: PipelineLag,
  ) {}

  @Get('summary')
  @Route('analyst', 'Members, active members, points issued / redeemed / expired / outstanding, liability')
  @ApiResponse({ status: 200, type: SummaryView })
  summary(@NoQuery() _q: object) {
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'summary' }));
  }

  @Get('daily')
  @Route('analyst', 'Per UTC day: purchases, revenue, points issued, redeemed, expired, new members', {
    description: 'Days without events are zeros. Default: the last 30 days; at most ten years per request.',
  })
  @ApiResponse({ status: 200, type: [DailyRowView] })
  daily(@Query() q: DailyQuery) {
    const to = q.to ?? new Date().toISOString().slice(0, 10);
    const from = q.from ?? new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10);
    if (from > to) throw apiError(400, 'invalid_request', 'from must not be after to', { field: 'from' });
    if (Date.parse(to) - Date.parse(from) > 3660 * DAY_MS) throw apiError(400, 'invalid_request', 'at most ten years per request', { field: 'from' });
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'daily', from, to }));
  }

  @Get('tiers')
  @Route('analyst', 'Members per tier')
  @ApiResponse({ status: 200, type: [TierRowView] })
  tiers(@NoQuery() _q: object) {
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'tiers' }));
  }

  @Get('cohorts')
  @Route('analyst', 'Monthly enrolment cohorts and the share still purchasing in each later month')
  @ApiResponse({ status: 200, type: [CohortView] })
  cohorts(@NoQuery() _q: object) {
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'cohorts' }));
  }

  @Get('channels')
  @Route('analyst', 'Per purchase channel: purchases, purchasing members, revenue, average basket, points earned', {
    description: 'All time, net of refunds; channel null collects purchases whose upstream system named no channel. Highest net revenue first.',
  })
  @ApiResponse({ status: 200, type: [ChannelRowView] })
  channels(@NoQuery() _q: object) {
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'channels' }));
  }

  @Get('segments')
  @Route('analyst', 'RFM segments with member counts, and the revenue share of the top 20 % of members')
  @ApiResponse({ status: 200, type: SegmentsView })
  segments(@NoQuery() _q: object) {
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'segments' }));
  }

  @Get('freshness')
  @Route('analyst', 'How far behind the read models are: lag per stage', {
    errors: [503],
    description: 'The totals of GET /v1/projections (which is for operators) without offsets: what analysts need to know how fresh these figures are.',
  })
  @ApiResponse({ status: 200, type: FreshnessView })
  async freshness(@NoQuery() _q: object) {
    const stages = await this.lag.stages();
    return {
      stages: stages.map((s) => ({ stage: s.stage, lag: s.lag, status: s.status })),
      lag: stages.reduce((n, s) => n + s.lag, 0),
      asOf: new Date().toISOString(),
    };
  }
}
