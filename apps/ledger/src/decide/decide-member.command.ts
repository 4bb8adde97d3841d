import type { MemberCommand, MemberState, Programme } from '@loyalty/domain';

/** Decide one member command against its current state (in-process; the decider is pure). */
export class DecideMemberCommand {
  constructor(
    readonly command: MemberCommand,
    readonly state: MemberState,
    readonly programme: Programme,
  ) {}
}
