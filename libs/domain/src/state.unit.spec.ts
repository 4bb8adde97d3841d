// The state's rare fields live in a record of their own, shared between states until an
// event changes one of them (state.ts). Sharing must never show: a state handed to
// evolve keeps its values, whichever record it shares.
import { DEFAULT_PROGRAMME, MemberState, decide, evolveAll, initialState } from './index';
import { M, adjust, day, enrol, purchase, refund } from '../test/fixtures';
import type { MemberCommand } from './commands';

function after(state: MemberState, command: MemberCommand): MemberState {
  const d = decide(command, state, DEFAULT_PROGRAMME);
  if (!d.ok) throw new Error(`${command.type} rejected: ${d.rejection.code}`);
  return evolveAll(state, d.events);
}

describe('rare fields of the member state', () => {
  it('given an enrolled member, when a plain purchase is applied, then the new state shares the rare fields of the state before', () => {
    const before = after(initialState(M), enrol());
    const next = after(before, purchase('p1', 12_000));
    expect(next.rare).toBe(before.rare);
    expect(next.purchases.length).toBe(1);
  });

  it('given a member with a purchase, when a refund changes a rare field, then the new state has its own record and the state before keeps its values', () => {
    const before = after(after(initialState(M), enrol()), purchase('p1', 12_000));
    const rareBefore = JSON.stringify(before.rare);
    const next = after(before, refund('r1', 'p1', 6_000));
    expect(next.rare).not.toBe(before.rare);
    expect(next.rare.reversed).toBe(60);
    expect(JSON.stringify(before.rare)).toBe(rareBefore);
  });

  it('given two states sharing a record, when each is changed by a different adjustment, then neither sees the other change', () => {
    const base = after(after(initialState(M), enrol()), purchase('p1', 12_000, day(1)));
    const a = after(base, adjust('a', -500, day(2)));
    const b = after(base, adjust('b', 7, day(2)));
    expect(a.rare.adjusted).toBe(-500);
    expect(a.rare.debt).toBe(500 - 170);
    expect(b.rare.adjusted).toBe(7);
    expect(b.rare.debt).toBe(0);
    expect(base.rare.adjusted).toBe(0);
    expect(base.rare.idempotency).toEqual([]);
    expect(a.rare.idempotency.map((r) => r.key)).toEqual(['a']);
    expect(b.rare.idempotency.map((r) => r.key)).toEqual(['b']);
  });
});
