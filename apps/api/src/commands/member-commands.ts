import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { MemberCommand } from '@loyalty/domain';
import type { CommandOutcome } from '@loyalty/kafka';
import { CommandGateway, CommandTimeoutError } from './command-gateway';
import { throwIfRejected, timeoutError } from './outcome-http';

/**
 * One in-process command for every member command the API sends: the handler puts it on
 * loyalty.commands and waits (bounded) for the ledger's outcome.
 */
export class SendMemberCommand {
  constructor(
    readonly commandId: string,
    readonly type: MemberCommand['type'],
    readonly data: MemberCommand['data'],
  ) {}
}

@CommandHandler(SendMemberCommand)
export class SendMemberCommandHandler implements ICommandHandler<SendMemberCommand, CommandOutcome> {
  constructor(private readonly gateway: CommandGateway) {}

  async execute({ commandId, type, data }: SendMemberCommand): Promise<CommandOutcome> {
    try {
      return throwIfRejected(await this.gateway.execute(commandId, type, data));
    } catch (err) {
      if (err instanceof CommandTimeoutError) throw timeoutError(commandId);
      throw err;
    }
  }
}
