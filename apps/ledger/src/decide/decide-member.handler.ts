import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { decide, type Decision } from '@loyalty/domain';
import { DecideMemberCommand } from './decide-member.command';

@CommandHandler(DecideMemberCommand)
export class DecideMemberHandler implements ICommandHandler<DecideMemberCommand, Decision> {
  async execute({ command, state, programme }: DecideMemberCommand): Promise<Decision> {
    return decide(command, state, programme);
  }
}
