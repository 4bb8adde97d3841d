import type { Admin } from 'kafkajs';

export type LagStatus = 'caught-up' | 'behind' | 'not-started';

export interface PartitionLag {
  partition: number;
  committed: string | null;
  head: string;
  lag: number;
  status: LagStatus;
}

export interface StageLag {
  stage: string;
  topic: string;
  partitions: PartitionLag[];
  lag: number;
  status: LagStatus;
}

/** Caught up at lag 0; not started while nothing was ever committed and there is input; behind otherwise. */
function statusOf(lag: number, started: boolean): LagStatus {
  return lag === 0 ? 'caught-up' : started ? 'behind' : 'not-started';
}

export type StageSource =
  | { stage: string; topic: string; groupId: string }
  | { stage: string; topic: string; storeOffsets: Map<number, string> };

/**
 * Committed offset, head and lag per stage and partition. Stages that are consumer groups
 * read their committed group offsets; projections pass the offsets their store recorded.
 * Lag 0 everywhere means everything published is visible.
 */
export async function stageLags(admin: Admin, sources: StageSource[]): Promise<StageLag[]> {
  // Every committed offset first, every head after: a head read before a stage's commit
  // would miss what that commit wrote downstream (the ingest commits its purchases and
  // writes the commands the ledger has not read; read the other way round, both stages
  // showed lag 0 while those commands waited). This way a lag can only be overstated.
  const committedBySource = new Map<StageSource, Map<number, string>>();
  for (const s of sources) {
    if ('groupId' in s) {
      const [topicOffsets] = await admin.fetchOffsets({ groupId: s.groupId, topics: [s.topic] });
      committedBySource.set(s, new Map((topicOffsets?.partitions ?? []).filter((p) => p.offset !== '-1').map((p) => [p.partition, p.offset])));
    } else {
      committedBySource.set(s, s.storeOffsets);
    }
  }
  const heads = new Map<string, Map<number, string>>();
  for (const topic of new Set(sources.map((s) => s.topic))) {
    const offsets = await admin.fetchTopicOffsets(topic);
    heads.set(topic, new Map(offsets.map((o) => [o.partition, o.high])));
  }
  const out: StageLag[] = [];
  for (const s of sources) {
    const committed = committedBySource.get(s)!;
    const partitions = [...heads.get(s.topic)!.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, head]) => {
        const c = committed.get(partition) ?? null;
        const lag = Math.max(0, Number(BigInt(head) - BigInt(c ?? '0')));
        return { partition, committed: c, head, lag, status: statusOf(lag, c !== null) };
      });
    const lag = partitions.reduce((n, p) => n + p.lag, 0);
    out.push({ stage: s.stage, topic: s.topic, partitions, lag, status: statusOf(lag, committed.size > 0) });
  }
  return out;
}

/** The four stages of the pipeline, given the offsets each read-model store recorded. */
export function pipelineSources(topicPrefix: string, stores: { postgres: Map<number, string>; redis: Map<number, string> }): StageSource[] {
  const events = `${topicPrefix}events`;
  return [
    { stage: 'ingest', topic: `${topicPrefix}purchases`, groupId: `${topicPrefix}ingest` },
    { stage: 'ledger', topic: `${topicPrefix}commands`, groupId: `${topicPrefix}ledger` },
    { stage: 'postgres', topic: events, storeOffsets: stores.postgres },
    { stage: 'redis', topic: events, storeOffsets: stores.redis },
  ];
}
