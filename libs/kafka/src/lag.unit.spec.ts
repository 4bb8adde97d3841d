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
});
