import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequiresRole } from '../auth/api-key.guard';
import { apiError } from '../common/error.filter';
import { dateParam } from '../common/params';
import { GetAnalyticsQuery } from './analytics.queries';

const DAY_MS = 86_400_000;

@Controller('v1/analytics')
export class AnalyticsController {
  constructor(private readonly queries: QueryBus) {}

  @Get('summary')
  @RequiresRole('analyst')
  summary() {
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'summary' }));
  }

  @Get('daily')
  @RequiresRole('analyst')
  daily(@Query('from') fromRaw?: string, @Query('to') toRaw?: string) {
    const to = dateParam('to', toRaw) ?? new Date().toISOString().slice(0, 10);
    const from = dateParam('from', fromRaw) ?? new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10);
    if (from > to) throw apiError(400, 'invalid_parameter', 'from must not be after to', { field: 'from' });
    if (Date.parse(to) - Date.parse(from) > 3660 * DAY_MS) throw apiError(400, 'invalid_parameter', 'at most ten years per request', { field: 'from' });
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'daily', from, to }));
  }

  @Get('tiers')
  @RequiresRole('analyst')
  tiers() {
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'tiers' }));
  }

  @Get('cohorts')
  @RequiresRole('analyst')
  cohorts() {
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'cohorts' }));
  }

  @Get('segments')
  @RequiresRole('analyst')
  segments() {
    return this.queries.execute(new GetAnalyticsQuery({ kind: 'segments' }));
  }
}
