// loyalty rebuild-ledger-state: disaster recovery of the command side. Folds every
// member's events (upcast, evolve) and writes the state the ledger would hold
// (compacted like the ledger does) to the compacted member-state topic, keyed by
// memberId (same partitioner as the ledger's own writes). The latest record per key
// wins on restore, so nothing has to be deleted first. The ledger must be stopped: a
// running ledger would keep deciding on states this overwrites.
import { compact, evolve, initialState, serializeState, type MemberState } from '@loyalty/domain';
import { programmeFromFile } from '@loyalty/config';
import { createKafka, topicNames } from '@loyalty/kafka';
import { readEvents } from '@loyalty/read-models';
import { flag } from '@loyalty/config';
import type { OpsCommand } from './commands';
import { Progress } from './progress';

export const rebuildLedgerStateCommand: OpsCommand = {
  summary: 'rebuild the ledger member-state topic from the events (the ledger must be stopped)  [--dry-run]',
  async run({ config, logger, args }) {
    const topics = topicNames(config.topics.prefix);
    const kafka = createKafka(config.kafka, logger, 'ops-rebuild');
    const groupId = `${config.topics.prefix}ledger`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      if (g && g.members.length > 0) {
        process.stderr.write(`the ledger is running (consumer group ${groupId} has ${g.members.length} active member(s), state ${g.state}): stop it first, then run rebuild-ledger-state again\n`);
        return 1;
      }
    } finally {
      await admin.disconnect();
    }
    const programme = programmeFromFile(config.programFile);
    const states = new Map<string, MemberState>();
    const progress = new Progress('rebuild-ledger-state: events folded');
    const read = await readEvents({
      kafka,
      topic: topics.events,
      groupPrefix: 'loyalty-ops-rebuild',
      onBatch: (_p, events) => {
        for (const { envelope } of events) states.set(envelope.memberId, evolve(states.get(envelope.memberId) ?? initialState(envelope.memberId), envelope));
        progress.add(events.length);
      },
    });
    progress.finish();
    if (flag(args, 'dry-run')) {
      process.stdout.write(`dry run: would write ${states.size} member states (from ${read.events} events) to ${topics.memberState}\n`);
      return 0;
    }
    const now = new Date().toISOString();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const written = new Progress('rebuild-ledger-state: states written', { unit: 'states', total: states.size });
    try {
      let batch: { key: string; value: string }[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        await producer.send({ topic: topics.memberState, acks: -1, messages: batch });
        written.add(batch.length);
        batch = [];
      };
      for (const [memberId, s] of states) {
        batch.push({ key: memberId, value: serializeState(compact(s, programme, now)) });
        if (batch.length >= 2000) await flush();
      }
      await flush();
    } finally {
      await producer.disconnect();
    }
    written.finish();
    process.stdout.write(`wrote ${states.size} member states (from ${read.events} events) to ${topics.memberState}; the ledger restores them when it starts\n`);
    return 0;
  },
};
