import { Controller, Get, Inject } from '@nestjs/common';
import type { Programme, Reward } from '@loyalty/domain';
import { RequiresRole } from '../auth/api-key.guard';
import { PROGRAMME } from '../infrastructure/tokens';

@Controller('v1/rewards')
export class RewardsController {
  constructor(@Inject(PROGRAMME) private readonly programme: Programme) {}

  @Get()
  @RequiresRole('reader')
  list(): { programme: string; version: string; rewards: readonly Reward[] } {
    return { programme: this.programme.id, version: this.programme.version, rewards: this.programme.rewards };
  }
}
