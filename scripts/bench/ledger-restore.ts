// Ledger state at scale: bytes per member held, and the time to restore N members from the
// compacted member-state topic, as the ledger does when it takes its partitions.
//   npm run build && node --expose-gc dist/scripts/bench/ledger-restore.js --members 1000000
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import {
  DEFAULT_PROGRAMME,
  compact,
  decide,
  envelopeMetaFor,
  evolveAll,
  initialState,
  serializeState,
  toEnvelopes,
  type MemberCommand,
  type MemberState,
} from '@loyalty/domain';
import { ensureTopics, readPartitionsToEnd, topicNames, topicSpecs } from '@loyalty/kafka';
import { MemberStateStore } from '../../apps/ledger/src/processor/member-state-store';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

/** A member with a few months of purchases (the typical member of the demo traffic). */
function typicalState(memberId: string, purchases: number, now: number): MemberState {
  let s = initialState(memberId);
  for (let p = 0; p < purchases; p++) {
    const at = new Date(now - (purchases - p) * 7 * 86_400_000).toISOString();
    const c = {
      type: 'RecordPurchase',
      data: { memberId, purchaseId: `${memberId}-p${p}`, amount: 1_000 + ((p * 7919) % 9_000), currency: 'USD', occurredAt: at },
      metadata: { commandId: `c${p}`, correlationId: `c${p}`, now: at },
    } as MemberCommand;
    const d = decide(c, s, DEFAULT_PROGRAMME);
    if (d.ok && d.events.length) s = evolveAll(s, toEnvelopes(memberId, s.sequence + 1, d.events, envelopeMetaFor(c)));
  }
  return compact(s, DEFAULT_PROGRAMME, new Date(now).toISOString());
}

async function main(): Promise<void> {
  const members = arg('members', 200_000);
  const purchases = arg('purchases-per-member', 6);
  const partitions = arg('partitions', 12);
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const prefix = `bench${randomBytes(3).toString('hex')}.`;
  const topic = topicNames(prefix).memberState;
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(prefix, partitions).filter((t) => t.topic === topic));

  try {
    // 1. Write N states, as the ledger would have.
    const now = Date.now();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let bytes = 0;
    let batch: { key: string; value: string }[] = [];
    const t0 = Date.now();
    for (let i = 0; i < members; i++) {
      const id = `member-${i.toString().padStart(7, '0')}`;
      const value = serializeState(typicalState(id, 1 + (i % purchases), now));
      bytes += value.length;
      batch.push({ key: id, value });
      if (batch.length === 2_000) {
        await producer.send({ topic, messages: batch });
        batch = [];
      }
    }
    if (batch.length) await producer.send({ topic, messages: batch });
    await producer.disconnect();
    const writeS = (Date.now() - t0) / 1000;

    // 2. Restore them all into the ledger's store and measure.
    const gc = (global as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage();
    const store = new MemberStateStore();
    const maps = new Map([...Array(partitions).keys()].map((p) => [p, store.startLoading(p)]));
    const t1 = Date.now();
    await readPartitionsToEnd({
      kafka,
      topic,
      partitions: [...maps.keys()],
      onBatch: (p, messages) => {
        const map = maps.get(p)!;
        for (const m of messages) map.set(m.key!.toString(), m.value!.toString());
      },
    });
    const restoreS = (Date.now() - t1) / 1000;
    gc?.();
    const after = process.memoryUsage();
    const held = store.members();
    const result = {
      members: held,
      serializedBytesPerMember: Math.round(bytes / members),
      heapBytesPerMember: Math.round((after.heapUsed - before.heapUsed) / held),
      rssBytesPerMember: Math.round((after.rss - before.rss) / held),
      restoreSeconds: restoreS,
      restoreMembersPerSecond: Math.round(held / restoreS),
      writeSeconds: writeS,
      gcExposed: Boolean(gc),
    };
    process.stdout.write(JSON.stringify(result) + '\n');
    if (held !== members) throw new Error(`restored ${held} of ${members} members`);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

main().catch((err) => {
  process.stderr.write(`ledger-restore failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
