import { initialState, type MemberState } from '@loyalty/domain';
import { MemberStateStore } from './member-state-store';

const stateOf = (memberId: string, sequence: number): MemberState => ({ ...initialState(memberId), sequence });

function commit(store: MemberStateStore, partition: number, ...states: MemberState[]): void {
  store.commit(
    partition,
    states.map((state) => ({ memberId: state.memberId, state, serialized: store.serialize(state) })),
  );
}

describe('MemberStateStore', () => {
  it('given a loaded partition, when states are committed, then they are read back (parsed or from their serialised form)', () => {
    const store = new MemberStateStore();
    store.startLoading(3);
    commit(store, 3, stateOf('m1', 4), stateOf('m2', 7));
    expect(store.get(3, 'm1').sequence).toBe(4);
    expect(store.get(3, 'm2').sequence).toBe(7);
    expect(store.get(3, 'unknown')).toEqual(initialState('unknown'));
    expect(store.members()).toBe(2);
  });

  it('given more members than the parsed cache holds, when read again, then the evicted ones come back from their serialised state', () => {
    const store = new MemberStateStore();
    store.startLoading(0);
    const n = 25_000;
    for (let i = 0; i < n; i += 1000) commit(store, 0, ...Array.from({ length: 1000 }, (_, j) => stateOf(`m${i + j}`, i + j + 1)));
    for (const i of [0, 1, 12_345, n - 1]) expect(store.get(0, `m${i}`).sequence).toBe(i + 1);
  });

  it('given a partition dropped, when it is loaded again from the changelog, then no parsed state of the old owner survives', () => {
    const store = new MemberStateStore();
    store.startLoading(1);
    commit(store, 1, stateOf('m1', 9));
    store.drop(1);
    const loading = store.startLoading(1);
    loading.set('m1', store.serialize(stateOf('m1', 5)));
    expect(store.get(1, 'm1').sequence).toBe(5);
  });

  it('given a partition released while a batch was in flight, when the batch commits, then nothing is kept for it', () => {
    const store = new MemberStateStore();
    store.startLoading(2);
    store.drop(2);
    commit(store, 2, stateOf('m1', 3));
    expect(store.get(2, 'm1')).toEqual(initialState('m1'));
    expect(store.members()).toBe(0);
  });
});
