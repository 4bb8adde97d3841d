// A tiny, local builder of event envelopes for the read-model tests. It does NOT
// decide anything (the decider lives in libs/domain): it writes down facts the
// way the ledger would publish them, with per-member sequences and Kafka offsets.
import { randomUUID } from 'node:crypto';
import { CURRENT_EVENT_VERSION, type Channel, type EventEnvelope, type MemberEvent } from '@loyalty/domain';
import type { PartitionEvent } from '../projection/events';

type DataOf<T extends MemberEvent['type']> = Extract<MemberEvent, { type: T }>['data'];

export class History {
  readonly events: PartitionEvent[] = [];
  private readonly seq = new Map<string, number>();
  private offset = 0;
  private lot = 0;

  constructor(readonly partition = 0) {}

  add<T extends MemberEvent['type']>(memberId: string, type: T, data: DataOf<T>, occurredAt: string): EventEnvelope {
    const sequence = (this.seq.get(memberId) ?? 0) + 1;
    this.seq.set(memberId, sequence);
    const envelope = {
      eventId: randomUUID(), type, version: CURRENT_EVENT_VERSION[type], memberId, sequence, occurredAt, recordedAt: occurredAt,
      causationId: `cmd-${memberId}-${sequence}`, correlationId: `corr-${memberId}`, data,
    } as unknown as EventEnvelope;
    this.events.push({ offset: String(this.offset++), envelope });
    return envelope;
  }

  nextLotId(memberId: string): string {
    return `${memberId}:lot:${++this.lot}`;
  }

  // Convenience writers for the common facts.
  enrol(memberId: string, at: string, extra: Partial<DataOf<'MemberEnrolled'>> = {}) {
    return this.add(memberId, 'MemberEnrolled', { source: 'api', tier: 'Member', ...extra }, at);
  }

  earn(memberId: string, points: number, at: string, extra: Partial<DataOf<'PointsEarned'>> = {}): string {
    const lotId = extra.lotId ?? this.nextLotId(memberId);
    const expiresAt = new Date(Date.parse(at) + 365 * 86400_000).toISOString();
    this.add(memberId, 'PointsEarned', { points, cause: 'purchase', lotId, expiresAt, programVersion: 'test', ...extra }, at);
    return lotId;
  }

  purchase(memberId: string, purchaseId: string, amount: number, at: string, points = Math.floor(amount / 100), channel: Channel = 'store'): string | null {
    this.add(memberId, 'PurchaseMade', { purchaseId, amount, currency: 'USD', occurredAt: at, channel, recordedAt: at }, at);
    return points > 0 ? this.earn(memberId, points, at, { purchaseId }) : null;
  }

  /** Offsets [from, to) of the history, for slicing batches. */
  slice(from: number, to = this.events.length): PartitionEvent[] {
    return this.events.slice(from, to);
  }
}

/** Splits events into batches of `size`. */
export function batches<T>(events: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < events.length; i += size) out.push(events.slice(i, i + size));
  return out;
}

/** The reference: a plain, per-event fold of balances and board scores, independent of both projections. */
export interface Reference {
  balances: Map<string, { available: number; lifetimeEarned: number; lifetimeRedeemed: number; lifetimeExpired: number; lifetimeReversed: number; lifetimeAdjusted: number; tier: string | null; sequence: number; spend: number; purchaseCount: number }>;
  boards: Map<string, Map<string, number>>; // `${board}:${period}` -> member -> score
}

export function referenceFold(envelopes: readonly EventEnvelope[]): Reference {
  const balances: Reference['balances'] = new Map();
  const boards: Reference['boards'] = new Map();
  const add = (k: string, m: string, by: number) => {
    if (!boards.has(k)) boards.set(k, new Map());
    const b = boards.get(k)!;
    b.set(m, (b.get(m) ?? 0) + by);
  };
  for (const env of envelopes) {
    const e = env as unknown as MemberEvent;
    let b = balances.get(env.memberId);
    if (!b) balances.set(env.memberId, (b = { available: 0, lifetimeEarned: 0, lifetimeRedeemed: 0, lifetimeExpired: 0, lifetimeReversed: 0, lifetimeAdjusted: 0, tier: null, sequence: 0, spend: 0, purchaseCount: 0 }));
    b.sequence = env.sequence;
    const month = new Date(env.occurredAt).toISOString().slice(0, 7);
    switch (e.type) {
      case 'MemberEnrolled': b.tier = e.data.tier; break;
      case 'TierChanged': b.tier = e.data.to; break;
      case 'PointsEarned': b.lifetimeEarned += e.data.points; add('points:all', env.memberId, e.data.points); add(`points:${month}`, env.memberId, e.data.points); break;
      case 'RewardRedeemed': b.lifetimeRedeemed += e.data.points; break;
      case 'PointsExpired': b.lifetimeExpired += e.data.points; break;
      case 'PointsReversed': b.lifetimeReversed += e.data.points; add('points:all', env.memberId, -e.data.points); add(`points:${month}`, env.memberId, -e.data.points); break;
      case 'PointsAdjusted': b.lifetimeAdjusted += e.data.points; break;
      case 'PurchaseMade': b.spend += e.data.amount; b.purchaseCount += 1; add('spend:all', env.memberId, e.data.amount); add(`spend:${month}`, env.memberId, e.data.amount); break;
      case 'PurchaseRefunded': b.spend -= e.data.amount; add('spend:all', env.memberId, -e.data.amount); add(`spend:${month}`, env.memberId, -e.data.amount); break;
      default: break;
    }
    b.available = b.lifetimeEarned - b.lifetimeRedeemed - b.lifetimeExpired - b.lifetimeReversed + b.lifetimeAdjusted;
  }
  return { balances, boards };
}
