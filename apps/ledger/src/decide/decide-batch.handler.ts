import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { decide, envelopeMetaFor, evolveAll, toEnvelopes, type Decision, type EventEnvelope, type MemberState } from '@loyalty/domain';
import { DecideBatchCommand } from './decide-batch.command';

export interface DecidedCommand {
  decision: Decision;
  /** The events of an accepted decision, enveloped (empty otherwise). */
  envelopes: EventEnvelope[];
  /** The member's state after the command (the state before it when nothing was appended). */
  after: MemberState;
}

export interface DecidedBatch {
  /** One per command, in order. */
  decided: DecidedCommand[];
  /** The final state of every member the batch appended events for. */
  touched: Map<string, MemberState>;
}

@CommandHandler(DecideBatchCommand)
export class DecideBatchHandler implements ICommandHandler<DecideBatchCommand, DecidedBatch> {
  async execute({ commands, stateBefore, programme }: DecideBatchCommand): Promise<DecidedBatch> {
    const touched = new Map<string, MemberState>();
    const decided: DecidedCommand[] = new Array(commands.length);
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i];
      const memberId = command.data.memberId;
      const state = touched.get(memberId) ?? stateBefore(memberId);
      const decision = decide(command, state, programme);
      if (decision.ok && decision.events.length > 0) {
        const envelopes = toEnvelopes(memberId, state.sequence + 1, decision.events, envelopeMetaFor(command));
        const after = evolveAll(state, envelopes);
        touched.set(memberId, after);
        decided[i] = { decision, envelopes, after };
      } else {
        decided[i] = { decision, envelopes: [], after: state };
      }
    }
    return { decided, touched };
  }
}
