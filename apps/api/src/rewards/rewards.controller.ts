import { Controller, Get, Inject } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Programme, Reward } from '@loyalty/domain';
import { NoQuery } from '../common/request.dto';
import { RewardsView } from '../common/response.dto';
import { Route } from '../common/route.decorator';
import { PROGRAMME } from '../infrastructure/tokens';

@ApiTags('rewards')
@Controller('v1/rewards')
export class RewardsController {
  constructor(@Inject(PROGRAMME) private readonly programme: Programme) {}

  @Get()
  @Route('reader', 'The rewards catalogue of the programme')
  @ApiResponse({ status: 200, type: RewardsView })
  list(@NoQuery() _q: object): { programme: string; version: string; rewards: readonly Reward[] } {
    return { programme: this.programme.id, version: this.programme.version, rewards: this.programme.rewards };
  }
}
