import type { IHeaders, Message } from 'kafkajs';
import type { EventEnvelope } from '@loyalty/domain';

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export function decodeJson<T>(value: Buffer | null): T {
  if (!value) throw new Error('empty message value');
  return JSON.parse(value.toString('utf8')) as T;
}

/** An event as a Kafka message; `partition` when the writer knows it (the ledger does). */
export function eventMessage(envelope: EventEnvelope, partition?: number): Message {
  return {
    key: envelope.memberId,
    partition,
    value: JSON.stringify(envelope),
    headers: { 'event-type': envelope.type, 'event-version': String(envelope.version) },
  };
}

export function headerBuffer(headers: IHeaders | undefined, name: string): Buffer | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first : Buffer.from(first);
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  return headerBuffer(headers, name)?.toString();
}
