import type { MemberCommand, MemberState, Programme } from '@loyalty/domain';

/**
 * Decide a batch of member commands, in order, each against its member's state as the
 * commands before it in the batch left it. One dispatch per batch: the decider is pure and
 * in-process, and a dispatch per command cost more than most decisions.
 */
export class DecideBatchCommand {
  constructor(
    readonly commands: readonly MemberCommand[],
    /** The member's state before this batch (the batch's own changes are applied on top). */
    readonly stateBefore: (memberId: string) => MemberState,
    readonly programme: Programme,
  ) {}
}
