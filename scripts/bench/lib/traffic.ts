// The bench's upstream traffic: the seeded generator of scripts/traffic (skewed members,
// basket amounts, ~3 % refunds, ~1 % duplicates, ~0.5 % malformed), materialised once so
// every phase and every ceiling works on the very same bytes.
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { generateTraffic, type TrafficMessage } from '../../traffic/generator';
import { now, sleep } from './util';

export interface Traffic {
  keys: string[];
  values: Buffer[];
  counts: Record<TrafficMessage['kind'], number>;
  distinctMembers: number;
  bytes: number;
}

export function materialise(o: { seed: number; purchases: number; members: number; memberPrefix?: string }): Traffic {
  const keys: string[] = [];
  const values: Buffer[] = [];
  const counts: Traffic['counts'] = { purchase: 0, refund: 0, duplicate: 0, malformed: 0 };
  const members = new Set<string>();
  let bytes = 0;
  for (const m of generateTraffic(o)) {
    keys.push(m.key);
    const v = Buffer.from(m.value);
    values.push(v);
    bytes += v.length;
    counts[m.kind]++;
    if (m.kind === 'purchase') members.add(m.key);
  }
  return { keys, values, counts, distinctMembers: members.size, bytes };
}

export async function connectProducer(kafka: Kafka): Promise<Producer> {
  // As scripts/traffic/publish.ts: idempotent, so a member's messages keep their order.
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  return p;
}

/** Publishes everything as fast as one idempotent producer goes, in batches. */
export async function publishAll(producer: Producer, topic: string, t: { keys: string[]; values: Buffer[] }, batch = 1000, from = 0, to = t.values.length) {
  const t0 = now();
  for (let i = from; i < to; i += batch) {
    const messages = [];
    for (let j = i; j < Math.min(to, i + batch); j++) messages.push({ key: t.keys[j], value: t.values[j] });
    await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
  }
  return { ms: now() - t0, messages: to - from };
}

/**
 * Publishes at a fixed offered rate: every `tickMs` the messages due by then leave in one
 * send (no coordinated omission: a late tick sends what fell due meanwhile). Calls
 * `onSent(index, publishStartMs)` for each message, with the time its send was issued.
 */
export async function publishAtRate(
  producer: Producer,
  topic: string,
  next: (i: number) => { key: string; value: Buffer | string },
  rate: number,
  seconds: number,
  onSent?: (i: number, at: number) => void,
  tickMs = 10,
): Promise<{ sent: number; ms: number; lateTicks: number; maxSendMs: number }> {
  const total = Math.round(rate * seconds);
  const t0 = now();
  let sent = 0;
  let lateTicks = 0;
  let maxSendMs = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate) + 1);
    if (due > sent) {
      const at = now();
      const messages = [];
      for (let i = sent; i < due; i++) {
        messages.push(next(i));
        onSent?.(i, at);
      }
      const n = due - sent;
      sent = due;
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
      const took = now() - at;
      maxSendMs = Math.max(maxSendMs, took);
      if (took > tickMs * 2 && n > 0) lateTicks++;
    }
    const wait = tickMs - ((now() - t0) % tickMs);
    await sleep(wait);
  }
  return { sent, ms: now() - t0, lateTicks, maxSendMs };
}
