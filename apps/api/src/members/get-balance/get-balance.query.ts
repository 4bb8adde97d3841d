export class GetBalanceQuery {
  constructor(
    readonly memberId: string,
    /** Wait (bounded) until the read model shows at least this member sequence. */
    readonly minSequence?: number,
  ) {}
}
