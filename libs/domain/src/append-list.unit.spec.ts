// AppendList: appends share storage, and no list ever sees an item appended to another.
import fc from 'fast-check';
import { AppendList } from './index';

const RUNS = Number(process.env.FC_RUNS ?? 1000);

type Rec = { readonly id: string; readonly n: number };

describe('AppendList', () => {
  it('given a list, when two lists are appended to it, then each has its own item and the list is unchanged', () => {
    const base = AppendList.empty<Rec>().append({ id: 'a', n: 1 }).append({ id: 'b', n: 2 });
    const x = base.append({ id: 'x', n: 3 });
    const y = base.append({ id: 'y', n: 4 });
    expect(base.toArray()).toEqual([{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
    expect(x.toArray().map((r) => r.id)).toEqual(['a', 'b', 'x']);
    expect(y.toArray().map((r) => r.id)).toEqual(['a', 'b', 'y']);
    expect(base.indexOfId('x')).toBe(-1);
    expect(y.indexOfId('x')).toBe(-1);
    expect(x.indexOfId('x')).toBe(2);
    expect(base.get(2)).toBeUndefined();
  });

  it('compares by items in toEqual and writes its items in JSON', () => {
    const r = (id: string) => ({ id, n: 0 });
    const a = AppendList.of([r('1'), r('2')]).append(r('3'));
    expect(a).toEqual(AppendList.of([r('1'), r('2'), r('3')]));
    expect(a).not.toEqual(AppendList.of([r('1'), r('2'), r('4')]));
    expect(a).not.toEqual(AppendList.of([r('1'), r('2')]));
    expect(JSON.stringify({ a })).toBe('{"a":[{"id":"1","n":0},{"id":"2","n":0},{"id":"3","n":0}]}');
  });

  it('behaves as a copied array under any interleaving of appends, replacements and filters (model-based)', () => {
    // ops on list k, each result a new list: append an item, replace one (with), or filter
    const op = fc.oneof(
      fc.record({ k: fc.nat(), id: fc.constantFrom('p1', 'p2', 'p3', 'pos-100041', 'pos-100042', ''), kind: fc.constant('append' as const) }),
      fc.record({ k: fc.nat(), id: fc.constantFrom('p1', 'p2'), kind: fc.constant('filter' as const) }),
      fc.record({ k: fc.nat(), id: fc.constantFrom('p1', 'p4'), kind: fc.constant('with' as const) }),
    );
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3 }), { maxLength: 4 }), fc.array(op, { maxLength: 60 }), (start, ops) => {
        const first = start.map((k, n) => ({ id: `p${k}`, n: -n - 1 }));
        const lists: AppendList<Rec>[] = [AppendList.empty<Rec>(), AppendList.of(first)];
        const model: Rec[][] = [[], first];
        ops.forEach((o, n) => {
          const k = o.k % lists.length;
          if (o.kind === 'append') {
            const r = { id: o.id, n };
            lists.push(lists[k].append(r));
            model.push([...model[k], r]);
          } else if (o.kind === 'filter') {
            lists.push(lists[k].filter((r) => r.id !== o.id));
            model.push(model[k].filter((r) => r.id !== o.id));
          } else if (model[k].length > 0) {
            const i = n % model[k].length;
            const r = { id: o.id, n };
            lists.push(lists[k].with(i, r));
            model.push(model[k].map((x, j) => (j === i ? r : x)));
          }
        });
        lists.forEach((l, k) => {
          expect(l.length).toBe(model[k].length);
          expect(l.toArray()).toEqual(model[k]);
          expect([...l]).toEqual(model[k]);
          for (const id of ['p1', 'p2', 'p3', 'p4', 'pos-100041', 'pos-100042', '', 'none']) {
            expect(l.indexOfId(id)).toBe(model[k].map((r) => r.id).lastIndexOf(id));
          }
        });
      }),
      { numRuns: RUNS },
    );
  });
});
