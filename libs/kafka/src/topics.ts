import type { Admin, ITopicConfig } from 'kafkajs';

export interface TopicNames {
  purchases: string;
  purchasesDlq: string;
  commands: string;
  events: string;
  memberState: string;
  commandResults: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    purchases: `${prefix}purchases`,
    purchasesDlq: `${prefix}purchases.dlq`,
    commands: `${prefix}commands`,
    events: `${prefix}events`,
    memberState: `${prefix}member-state`,
    commandResults: `${prefix}command-results`,
  };
}

const DAY_MS = 24 * 3600 * 1000;

/** The documented topics: partitions, retention and compaction. Co-partitioned by memberId. */
export function topicSpecs(prefix: string, partitions: number, replicationFactor = 1): ITopicConfig[] {
  const t = topicNames(prefix);
  const spec = (topic: string, configs: Record<string, string>): ITopicConfig => ({
    topic,
    numPartitions: partitions,
    replicationFactor,
    configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
  });
  // A ledger transaction carries one record batch per output partition; leave it room.
  const big = { 'max.message.bytes': String(8 * 1024 * 1024) };
  return [
    spec(t.purchases, { 'retention.ms': String(30 * DAY_MS) }),
    spec(t.purchasesDlq, { 'retention.ms': '-1', ...big }),
    spec(t.commands, { 'retention.ms': String(30 * DAY_MS), ...big }),
    // The ledger of record: kept forever.
    spec(t.events, { 'retention.ms': '-1', 'retention.bytes': '-1', ...big }),
    // One record per member, the latest state: a changelog, compacted.
    spec(t.memberState, { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000', 'segment.ms': String(DAY_MS), ...big }),
    spec(t.commandResults, { 'retention.ms': String(DAY_MS), ...big }),
  ];
}

export interface TopicCheck {
  topic: string;
  status: 'created' | 'ok' | 'mismatch';
  problems: string[];
}

/** Creates the missing topics and checks the partitions and key configs of the existing ones. */
export async function ensureTopics(admin: Admin, specs: ITopicConfig[]): Promise<TopicCheck[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: true });
    } catch (err) {
      // Another process may have created them at the same moment.
      if (!/already exists/i.test(String((err as Error).message))) throw err;
    }
  }
  const present = specs.filter((s) => existing.has(s.topic));
  const checks: TopicCheck[] = missing.map((s) => ({ topic: s.topic, status: 'created', problems: [] }));
  if (present.length === 0) return checks;

  const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((s) => ({ type: 2 /* TOPIC */, name: s.topic })),
  });
  for (const s of present) {
    const problems: string[] = [];
    const partitions = meta.topics.find((m) => m.name === s.topic)?.partitions.length ?? 0;
    if (partitions !== s.numPartitions) problems.push(`has ${partitions} partitions, expected ${s.numPartitions}`);
    const actual = configs.resources.find((r) => r.resourceName === s.topic)?.configEntries ?? [];
    for (const want of s.configEntries ?? []) {
      if (want.name === 'cleanup.policy' || want.name === 'retention.ms') {
        const got = actual.find((c) => c.configName === want.name)?.configValue;
        if (got !== want.value) problems.push(`${want.name} is ${got}, expected ${want.value}`);
      }
    }
    checks.push({ topic: s.topic, status: problems.length ? 'mismatch' : 'ok', problems });
  }
  return checks;
}
