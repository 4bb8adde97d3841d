// loyalty dlq list | redrive
//
// list: every dead letter with its reason headers, where it came from, a preview of the
//   payload and whether it was re-driven already.
// redrive [--reason R] [--dry-run] [--limit N]: re-publishes the chosen dead letters,
//   not re-driven before, to loyalty.purchases with their ORIGINAL bytes and key. What
//   was re-driven is remembered in the compacted topic `<prefix>purchases.dlq.redriven`
//   (key = "<partition>:<offset>" of the dead letter), written in the SAME Kafka
//   transaction as the re-published messages: a crash re-drives nothing twice and loses
//   nothing, and a second redrive skips them. (A consumer-group offset cannot do this
//   with a --reason filter: it would mark the dead letters it skipped as well.) The
//   transactional id is fixed, so two redrives at once fence each other.
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { createKafka, headerString, topicNames } from '@loyalty/kafka';
import { readEvents, type PartitionEvent } from '@loyalty/read-models';
import { flag, intOption, option, UsageError } from '@loyalty/config';
import type { CommandContext, OpsCommand } from './commands';

interface DeadLetter {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders | undefined;
  reason: string;
}

const id = (d: { partition: number; offset: string }) => `${d.partition}:${d.offset}`;

type Read = KafkaMessage & { partition: number };

async function readAll(ctx: CommandContext, topic: string): Promise<Read[]> {
  const kafka = createKafka(ctx.config.kafka, ctx.logger, 'ops-dlq');
  const admin = kafka.admin();
  await admin.connect();
  const exists = (await admin.listTopics()).includes(topic);
  await admin.disconnect();
  if (!exists) return [];
  const out: Read[] = [];
  await readEvents({
    kafka,
    topic,
    groupPrefix: 'loyalty-ops-dlq',
    decode: (m) => m as unknown as PartitionEvent['envelope'],
    onBatch: (partition, events) => {
      for (const e of events) out.push({ ...(e.envelope as unknown as KafkaMessage), partition });
    },
  });
  return out;
}

async function load(ctx: CommandContext) {
  const t = topicNames(ctx.config.topics.prefix);
  const redrivenTopic = `${t.purchasesDlq}.redriven`;
  const [letters, marks] = await Promise.all([readAll(ctx, t.purchasesDlq), readAll(ctx, redrivenTopic)]);
  const redriven = new Set<string>();
  for (const m of marks) {
    const k = m.key?.toString();
    if (k && m.value) redriven.add(k);
  }
  const dead: DeadLetter[] = letters.map((m) => ({
    partition: m.partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    headers: m.headers,
    reason: headerString(m.headers, 'reason') ?? '?',
  }));
  dead.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  return { topics: t, redrivenTopic, dead, redriven };
}

function preview(v: Buffer | null, n = 80): string {
  if (!v) return '(null)';
  const s = v.toString('utf8').replace(/\s+/g, ' ');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

export const dlqCommand: OpsCommand = {
  summary: 'dead letters: list [--limit N] [--reason R] | redrive [--reason R] [--dry-run] [--limit N]',
  async run(ctx) {
    const [sub, ...rest] = ctx.args;
    const reason = option(rest, 'reason');
    const limit = intOption(rest, 'limit', sub === 'list' ? 100 : Number.MAX_SAFE_INTEGER);
    if (sub !== 'list' && sub !== 'redrive') throw new UsageError('usage: loyalty dlq list [--limit N] [--reason R] | loyalty dlq redrive [--reason R] [--dry-run] [--limit N]');
    const { topics, redrivenTopic, dead, redriven } = await load(ctx);
    const chosen = dead.filter((d) => reason === undefined || d.reason === reason);

    if (sub === 'list') {
      const counts = new Map<string, number>();
      for (const d of dead) counts.set(d.reason, (counts.get(d.reason) ?? 0) + 1);
      process.stdout.write(`${dead.length} dead letter(s) in ${topics.purchasesDlq}, ${redriven.size} re-driven; by reason: ${[...counts].map(([r, n]) => `${r} ${n}`).join(', ') || '-'}\n`);
      for (const d of chosen.slice(0, limit)) {
        const h = (n: string) => headerString(d.headers, n) ?? '-';
        process.stdout.write(
          `${id(d).padEnd(10)} ${d.reason.padEnd(20)} by ${h('rejected-by').padEnd(6)} from ${h('source-topic')}/${h('source-partition')}@${h('source-offset')}` +
            `${redriven.has(id(d)) ? '  [re-driven]' : ''}\n           ${h('reason-message')}\n           key ${d.key?.toString() ?? '-'}: ${preview(d.value)}\n`,
        );
      }
      if (chosen.length > limit) process.stdout.write(`… ${chosen.length - limit} more (--limit)\n`);
      return 0;
    }

    const todo = chosen.filter((d) => !redriven.has(id(d))).slice(0, limit);
    if (flag(rest, 'dry-run') || todo.length === 0) {
      process.stdout.write(`${flag(rest, 'dry-run') ? 'dry run: would re-drive' : 'nothing to re-drive:'} ${todo.length} dead letter(s)${reason ? ` with reason ${reason}` : ''} to ${topics.purchases}` +
        ` (${chosen.length - todo.length} already re-driven)\n`);
      for (const d of todo) process.stdout.write(`  ${id(d)} ${d.reason} key ${d.key?.toString() ?? '-'}: ${preview(d.value)}\n`);
      return 0;
    }
    const kafka = createKafka(ctx.config.kafka, ctx.logger, 'ops-dlq');
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(redrivenTopic)) {
        await admin
          .createTopics({
            waitForLeaders: true,
            topics: [{ topic: redrivenTopic, numPartitions: 1, replicationFactor: ctx.config.topics.replicationFactor, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
          })
          .catch((err) => {
            if (!/already exists/i.test(String(err.message))) throw err;
          });
      }
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({ transactionalId: `${ctx.config.topics.prefix}ops-dlq-redrive`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (let i = 0; i < todo.length; i += 500) {
        const chunk = todo.slice(i, i + 500);
        const tx = await producer.transaction();
        try {
          await tx.send({
            topic: topics.purchases,
            acks: -1,
            messages: chunk.map((d) => ({ key: d.key, value: d.value, headers: { 'redriven-from': `${topics.purchasesDlq}/${id(d)}`, 'redriven-reason': d.reason } })),
          });
          await tx.send({
            topic: redrivenTopic,
            acks: -1,
            messages: chunk.map((d) => ({ key: id(d), value: JSON.stringify({ at: new Date().toISOString(), reason: d.reason, to: topics.purchases }) })),
          });
          await tx.commit();
        } catch (err) {
          await tx.abort().catch(() => undefined);
          throw err;
        }
      }
    } finally {
      await producer.disconnect();
    }
    process.stdout.write(`re-drove ${todo.length} dead letter(s)${reason ? ` with reason ${reason}` : ''} to ${topics.purchases} (${chosen.length - todo.length} already re-driven before)\n`);
    return 0;
  },
};
