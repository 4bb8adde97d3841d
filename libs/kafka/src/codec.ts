import type { IHeaders, Message } from 'kafkajs';
import type { EventEnvelope } from '@loyalty/domain';

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export function decodeJson<T>(value: Buffer | null): T {
  if (!value) throw new Error('empty message value');
  return JSON.parse(value.toString('utf8')) as T;
}

export function eventMessage(envelope: EventEnvelope): Message {
  return {
    key: envelope.memberId,
    value: JSON.stringify(envelope),
    headers: { 'event-type': envelope.type, 'event-version': String(envelope.version) },
  };
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v[0]?.toString();
  return v.toString();
}
