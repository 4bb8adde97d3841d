import { createKafka, ensureTopics, topicSpecs, withStartupRetry } from '@loyalty/kafka';
import type { OpsCommand } from './commands';

export const topicsCommand: OpsCommand = {
  summary: 'create or check the topics (partitions, retention, compaction)',
  async run({ config, logger }) {
    const admin = createKafka(config.kafka, logger, 'ops').admin();
    await withStartupRetry('kafka', logger, () => admin.connect(), { maxAttempts: 10 });
    try {
      const checks = await ensureTopics(admin, topicSpecs(config.topics.prefix, config.topics.partitions, config.topics.replicationFactor));
      for (const c of checks) {
        process.stdout.write(`${c.status.padEnd(8)} ${c.topic}${c.problems.length ? ': ' + c.problems.join('; ') : ''}\n`);
      }
      return checks.some((c) => c.status === 'mismatch') ? 1 : 0;
    } finally {
      await admin.disconnect();
    }
  },
};
