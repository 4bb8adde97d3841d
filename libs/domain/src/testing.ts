// given / when / then for the decider: specifications that read as the rules do.
//   given([enrolled, earned]).when(redeem).then([redeemed])
//   given([]).when(refund).thenRejects('unknown-purchase')
//   given([enrolled]).when(redeem).thenRefuses('insufficient-points', [refused])
// Framework-free (node:assert), so any test runner can use it.

import { deepStrictEqual, fail } from 'node:assert';
import { MemberCommand } from './commands';
import { Decision, RejectionCode, decide } from './decide';
import { MemberEvent } from './events';
import { DEFAULT_PROGRAMME, Programme } from './programme';
import { MemberState, evolve, initialState } from './state';

export interface Spec {
  when(command: MemberCommand): Outcome;
  /** The state the given events fold into. */
  readonly state: MemberState;
}

export interface Outcome {
  readonly decision: Decision;
  /** Asserts the emitted events (deep equality). Returns the state after them. */
  then(expected: readonly MemberEvent[]): MemberState;
  /** Asserts the events match `partial` in order (only the listed data fields are compared). */
  thenMatches(expected: readonly { type: MemberEvent['type']; data?: Record<string, unknown> }[]): MemberState;
  /** Asserts a rejection with this code and no events. */
  thenRejects(code: RejectionCode): void;
  /**
   * Asserts a recorded rejection (a refusal): the caller gets `code`, and the events
   * match `partial` as in thenMatches. Returns the state after them.
   */
  thenRefuses(code: RejectionCode, expected: readonly { type: MemberEvent['type']; data?: Record<string, unknown> }[]): MemberState;
  /** Asserts that nothing happened: no events (a duplicate, or nothing to do). */
  thenNothing(): void;
}

export function given(
  events: readonly MemberEvent[],
  options: { memberId?: string; programme?: Programme } = {},
): Spec {
  const programme = options.programme ?? DEFAULT_PROGRAMME;
  const state = events.reduce(evolve, initialState(options.memberId ?? 'm-1'));
  return {
    state,
    when(command) {
      const decision = decide(command, state, programme);
      const events = (refusal = false): readonly MemberEvent[] => {
        if (!decision.ok) fail(`expected events, got rejection ${decision.rejection.code}: ${decision.rejection.message}`);
        if (!refusal && decision.refusal) fail(`expected an acceptance, got the recorded refusal ${decision.refusal.code}: ${decision.refusal.message}`);
        return decision.events;
      };
      const matches = (actual: readonly MemberEvent[], expected: readonly { type: MemberEvent['type']; data?: Record<string, unknown> }[]) => {
        const shaped = actual.map((e, i) => {
          const want = expected[i];
          if (want?.data === undefined) return { type: e.type };
          const data: Record<string, unknown> = {};
          for (const k of Object.keys(want.data)) data[k] = (e.data as Record<string, unknown>)[k];
          return { type: e.type, data };
        });
        deepStrictEqual(shaped, expected.map((w) => (w.data === undefined ? { type: w.type } : w)));
        return actual.reduce(evolve, state);
      };
      return {
        decision,
        then(expected) {
          const actual = events();
          deepStrictEqual(actual, expected);
          return actual.reduce(evolve, state);
        },
        thenMatches(expected) {
          return matches(events(), expected);
        },
        thenRejects(code) {
          if (decision.ok && decision.refusal) fail(`expected rejection ${code} with no events, got the recorded refusal ${decision.refusal.code} with ${JSON.stringify(decision.events)}`);
          if (decision.ok) fail(`expected rejection ${code}, got ${JSON.stringify(decision.events)}`);
          deepStrictEqual(decision.rejection.code, code, decision.rejection.message);
        },
        thenRefuses(code, expected) {
          if (!decision.ok) fail(`expected the recorded refusal ${code}, got rejection ${decision.rejection.code} with no events: ${decision.rejection.message}`);
          if (!decision.refusal) fail(`expected the recorded refusal ${code}, got an acceptance: ${JSON.stringify(decision.events)}`);
          deepStrictEqual(decision.refusal.code, code, decision.refusal.message);
          return matches(events(true), expected);
        },
        thenNothing() {
          if (!decision.ok) fail(`expected no events, got rejection ${decision.rejection.code}: ${decision.rejection.message}`);
          if (decision.refusal) fail(`expected no events, got the recorded refusal ${decision.refusal.code}`);
          deepStrictEqual(decision.events, []);
        },
      };
    },
  };
}
