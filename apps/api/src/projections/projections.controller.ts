import { Controller, Get } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import type { StageLag } from '@loyalty/kafka';
import { NoQuery } from '../common/request.dto';
import { ProjectionsView } from '../common/response.dto';
import { Route } from '../common/route.decorator';
import { PipelineLag } from './pipeline-lag';

/** GET /v1/projections: every stage and partition; lag 0 everywhere means all that was published is visible. */
@ApiTags('operations')
@Controller('v1/projections')
export class ProjectionsController {
  constructor(private readonly lag: PipelineLag) {}

  @Get()
  @Route('operator', 'Offsets, heads and lag of every stage and partition', {
    errors: [503],
    description: 'Stages `ingest`, `ledger`, `postgres`, `redis`; lag 0 everywhere means all that was published is visible.',
  })
  @ApiResponse({ status: 200, type: ProjectionsView })
  async projections(@NoQuery() _q: object): Promise<{ stages: StageLag[]; lag: number }> {
    const stages = await this.lag.stages(0);
    return { stages, lag: stages.reduce((n, s) => n + s.lag, 0) };
  }
}
