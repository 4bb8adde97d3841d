import { initialState, loadProgramme, type MemberCommand } from '@loyalty/domain';
import { DecideBatchCommand } from './decide-batch.command';
import { DecideBatchHandler } from './decide-batch.handler';

const programme = loadProgramme(require('../../../../programmes/default.json'));
const now = '2026-11-23T07:00:00.000Z';
const purchase = (memberId: string, purchaseId: string, amount: number): MemberCommand => ({
  type: 'RecordPurchase',
  data: { memberId, purchaseId, amount, currency: 'USD', occurredAt: '2026-11-22T10:00:00.000Z' },
  metadata: { commandId: `purchase:${purchaseId}`, correlationId: `purchase:${purchaseId}`, now },
});

describe('DecideBatchHandler', () => {
  it('given commands of two members, when decided as one batch, then each is decided against the state the commands before it left', async () => {
    const asked: string[] = [];
    const { decided, touched } = await new DecideBatchHandler().execute(
      new DecideBatchCommand([purchase('a', 'p1', 1000), purchase('b', 'p2', 500), purchase('a', 'p1', 1000), purchase('a', 'p3', 200)], (id) => {
        asked.push(id);
        return initialState(id);
      }, programme),
    );
    expect(asked).toEqual(['a', 'b']); // the store is asked once per member, before its first command
    expect(decided.map((d) => d.decision.ok && d.envelopes.map((e) => e.sequence))).toEqual([[1, 2, 3, 4], [1, 2, 3, 4], [], [5, 6]]);
    expect(decided[2].decision).toMatchObject({ ok: true, duplicateOf: expect.anything() });
    expect(decided[2].after).toBe(decided[0].after); // a repeat appends nothing
    expect(touched.get('a')).toBe(decided[3].after);
    expect(touched.get('b')?.sequence).toBe(4);
  });
});
