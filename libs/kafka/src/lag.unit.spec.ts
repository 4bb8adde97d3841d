import type { Admin } from 'kafkajs';
import { stageLags } from './lag';

// A broker where the ingest commits in the middle of the reading: its purchases committed,
// its two commands written for the ledger, which has not read them yet.
function adminWithACommitWhileRead(): Admin {
  let ingestCommitted = false;
  return {
    fetchTopicOffsets: async (topic: string) => [{ partition: 0, offset: '0', high: topic === 'purchases' || ingestCommitted ? '2' : '0', low: '0' }],
    fetchOffsets: async ({ groupId }: { groupId: string }) => {
      if (groupId === 'ingest') {
        ingestCommitted = true; // the ingest's transaction lands just before its offsets are read
        return [{ topic: 'purchases', partitions: [{ partition: 0, offset: '2' }] }];
      }
      return [{ topic: 'commands', partitions: [{ partition: 0, offset: '0' }] }];
    },
  } as unknown as Admin;
}

describe('stageLags', () => {
  it('given the ingest committing while the lags are read, when every stage is read, then the commands it wrote still show as the ledger\'s lag', async () => {
    const lags = await stageLags(adminWithACommitWhileRead(), [
      { stage: 'ingest', topic: 'purchases', groupId: 'ingest' },
      { stage: 'ledger', topic: 'commands', groupId: 'ledger' },
    ]);
    expect(lags.reduce((n, s) => n + s.lag, 0)).toBeGreaterThan(0);
    expect(lags.find((s) => s.stage === 'ledger')?.lag).toBe(2);
  });

  it('given a stage that committed on one partition only, then each partition and the stage carry their status', async () => {
    const admin = {
      fetchTopicOffsets: async () => [0, 1, 2].map((partition) => ({ partition, offset: '0', high: partition === 2 ? '0' : '5', low: '0' })),
      fetchOffsets: async () => [{ topic: 'commands', partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '-1' }, { partition: 2, offset: '-1' }] }],
    } as unknown as Admin;
    const [ledger] = await stageLags(admin, [{ stage: 'ledger', topic: 'commands', groupId: 'ledger' }]);
    expect(ledger.partitions.map((p) => [p.partition, p.lag, p.status])).toEqual([[0, 0, 'caught-up'], [1, 5, 'not-started'], [2, 0, 'caught-up']]);
    expect(ledger.status).toBe('behind');
  });
});
