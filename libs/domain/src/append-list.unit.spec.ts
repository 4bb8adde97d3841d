// LotList and PurchaseList: appends share storage, and no list ever sees a record
// appended to, or changed in, another.
import fc from 'fast-check';
import { LotList, OpenPurchase, PurchaseList } from './index';

const RUNS = Number(process.env.FC_RUNS ?? 1000);

const purchase = (id: string, n: number): OpenPurchase => ({
  id,
  at: 1_740_000_000 + n,
  amount: 1_000 + n,
  refunded: 0,
  earned: 0,
  reversed: 0,
  programVersion: '',
  sequence: n,
  refundIds: [],
});

describe('PurchaseList', () => {
  it('given a list, when two lists are appended to it, then each has its own record and the list is unchanged', () => {
    const base = PurchaseList.of().append(purchase('a', 1)).appendNew('b', 1_740_000_002, 1_002, 2);
    const x = base.append(purchase('x', 3));
    const y = base.appendNew('y', 1_740_000_004, 1_004, 4);
    expect(base.toArray()).toEqual([purchase('a', 1), purchase('b', 2)]);
    expect(x.toArray().map((r) => r.id)).toEqual(['a', 'b', 'x']);
    expect(y.toArray()).toEqual([purchase('a', 1), purchase('b', 2), purchase('y', 4)]);
    expect(base.indexOfId('x')).toBe(-1);
    expect(y.indexOfId('x')).toBe(-1);
    expect(x.indexOfId('x')).toBe(2);
    expect(base.get(2)).toBeUndefined();
    expect(y.field(2, 'amount')).toBe(1_004);
    expect(y.column('sequence')).toEqual([1, 2, 4]);
  });

  it('compares by records in toEqual and writes its records in JSON', () => {
    const a = PurchaseList.of([purchase('1', 1), purchase('2', 2)]).append(purchase('3', 3));
    expect(a).toEqual(PurchaseList.of([purchase('1', 1), purchase('2', 2), purchase('3', 3)]));
    expect(a).not.toEqual(PurchaseList.of([purchase('1', 1), purchase('2', 2), purchase('4', 3)]));
    expect(a).not.toEqual(PurchaseList.of([purchase('1', 1), purchase('2', 2)]));
    expect(JSON.parse(JSON.stringify({ a }))).toEqual({ a: [purchase('1', 1), purchase('2', 2), purchase('3', 3)] });
  });

  it('given a purchase changed in a copy, then the list it came from still has the purchase as it was', () => {
    const base = PurchaseList.of([purchase('a', 1)]).appendNew('b', 1_740_000_002, 1_002, 2);
    const earned = base.withEarned(1, 40, 'v1', false);
    const refunded = earned.withRefund(1, 500, 'r-1', false).withReversed(1, 20, false);
    expect(base.get(1)).toEqual(purchase('b', 2));
    expect(earned.get(1)).toEqual({ ...purchase('b', 2), earned: 40, programVersion: 'v1' });
    expect(refunded.get(1)).toEqual({ ...purchase('b', 2), earned: 40, programVersion: 'v1', refunded: 500, refundIds: ['r-1'], reversed: 20 });
    expect(refunded.qualifying(0, 2e9)).toBe(20);
    expect(earned.qualifying(0, 2e9)).toBe(40);
    expect(earned.qualifying(1_740_000_002, 2e9)).toBe(0); // (from, to]
  });

  it('behaves as a copied array under any interleaving of appends, replacements, changes and filters (model-based)', () => {
    // ops on list k, each result a new list
    const id = fc.constantFrom('p1', 'p2', 'p3', 'pos-100041', 'pos-100042', '');
    const op = fc.oneof(
      fc.record({ k: fc.nat(), id, kind: fc.constant('append' as const) }),
      fc.record({ k: fc.nat(), id, kind: fc.constant('appendNew' as const) }),
      fc.record({ k: fc.nat(), id: fc.constantFrom('p1', 'p2'), kind: fc.constant('filter' as const) }),
      fc.record({ k: fc.nat(), id: fc.constant(''), kind: fc.constant('atOrAfter' as const) }),
      fc.record({ k: fc.nat(), id: fc.constantFrom('p1', 'p4'), kind: fc.constant('with' as const) }),
      fc.record({ k: fc.nat(), id: fc.constant(''), kind: fc.constantFrom('earn' as const, 'refund' as const, 'reverse' as const) }),
    );
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3 }), { maxLength: 4 }), fc.array(op, { maxLength: 60 }), (start, ops) => {
        const first = start.map((k, n) => purchase(`p${k}`, -n - 1));
        const lists: PurchaseList[] = [PurchaseList.of(), PurchaseList.of(first)];
        const model: OpenPurchase[][] = [[], first];
        ops.forEach((o, n) => {
          const k = o.k % lists.length;
          const i = model[k].length > 0 ? n % model[k].length : -1;
          const change = (f: (p: OpenPurchase) => OpenPurchase) => model.push(model[k].map((x, j) => (j === i ? f(x) : x)));
          if (o.kind === 'append') {
            lists.push(lists[k].append(purchase(o.id, n)));
            model.push([...model[k], purchase(o.id, n)]);
          } else if (o.kind === 'appendNew') {
            const r = purchase(o.id, n);
            lists.push(lists[k].appendNew(r.id, r.at, r.amount, r.sequence));
            model.push([...model[k], r]);
          } else if (o.kind === 'filter') {
            lists.push(lists[k].filter((r) => r.id !== o.id));
            model.push(model[k].filter((r) => r.id !== o.id));
          } else if (o.kind === 'atOrAfter') {
            // what compact keeps: purchases at or after an instant (here the middle one's)
            const oldest = model[k].length > 0 ? model[k][model[k].length >> 1].at : 0;
            lists.push(lists[k].atOrAfter(oldest));
            model.push(model[k].filter((r) => r.at >= oldest));
          } else if (i < 0) {
            return;
          } else if (o.kind === 'with') {
            lists.push(lists[k].with(i, purchase(o.id, n)));
            change(() => purchase(o.id, n));
          } else if (o.kind === 'earn') {
            lists.push(lists[k].withEarned(i, n, `v${n}`, false));
            change((p) => ({ ...p, earned: p.earned + n, programVersion: `v${n}` }));
          } else if (o.kind === 'refund') {
            lists.push(lists[k].withRefund(i, n, `r${n}`, false));
            change((p) => ({ ...p, refunded: p.refunded + n, refundIds: [...p.refundIds, `r${n}`] }));
          } else {
            lists.push(lists[k].withReversed(i, n, false));
            change((p) => ({ ...p, reversed: p.reversed + n }));
          }
        });
        lists.forEach((l, k) => {
          expect(l.length).toBe(model[k].length);
          expect(l.toArray()).toEqual(model[k]);
          expect([...l]).toEqual(model[k]);
          expect(l.column('earned')).toEqual(model[k].map((p) => p.earned));
          expect(l.qualifying(0, 2e9)).toBe(model[k].reduce((q, p) => q + p.earned - p.reversed, 0));
          for (const id of ['p1', 'p2', 'p3', 'p4', 'pos-100041', 'pos-100042', '', 'none']) {
            expect(l.indexOfId(id)).toBe(model[k].map((r) => r.id).lastIndexOf(id));
          }
        });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('LotList', () => {
  it('behaves as a copied array under any interleaving of appends and takes (model-based)', () => {
    type L = { id: string; remaining: number; expiresAt: number };
    const op = fc.oneof(
      fc.record({ k: fc.nat(), kind: fc.constant('append' as const), points: fc.integer({ min: 1, max: 50 }) }),
      fc.record({ k: fc.nat(), kind: fc.constant('take' as const), points: fc.integer({ min: 1, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const lists: LotList[] = [LotList.of()];
        const model: L[][] = [[]];
        ops.forEach((o, n) => {
          const k = o.k % lists.length;
          if (o.kind === 'append') {
            const l = { id: `L${n}`, remaining: o.points, expiresAt: 1_760_000_000 + n };
            lists.push(n % 2 === 0 ? lists[k].append(l) : lists[k].appendLot(l.id, l.remaining, l.expiresAt));
            model.push([...model[k], l]);
          } else {
            // take from the first and the last lot
            const ids = [model[k][0]?.id, model[k][model[k].length - 1]?.id].filter((x): x is string => x !== undefined);
            const taken = ids.map((lotId) => ({ lotId, points: o.points }));
            lists.push(lists[k].take(taken));
            model.push(
              model[k]
                .map((l) => ({ ...l, remaining: l.remaining - taken.filter((t) => t.lotId === l.id).reduce((s, t) => s + t.points, 0) }))
                .filter((l) => l.remaining > 0),
            );
          }
        });
        lists.forEach((l, k) => {
          expect(l.toArray()).toEqual(model[k]);
          expect(l.column('remaining')).toEqual(model[k].map((x) => x.remaining));
        });
      }),
      { numRuns: RUNS },
    );
  });
});
