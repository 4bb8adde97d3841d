// Recomputes every member's balance and tier from loyalty.events (upcast on read,
// folded with the domain's evolve) and compares them with the read models, each at a
// point where it is consistent with a known prefix of every partition:
//
// - Postgres: offsets and rows read in ONE repeatable-read snapshot: the store is
//   exactly "events below its offsets".
// - Redis: offsets are read before (lo) and after (hi) the balances. On a partition
//   that did not move, the store is exactly "events below lo". On one that moved (a
//   live projector), each balance hash was written atomically with the offset by the
//   projection's script, so it equals the member's fold after SOME batch boundary in
//   [lo, hi]: it is accepted iff it equals the fold at the member's stored `sequence`,
//   and that sequence lies in the window.
//
// The events are read only up to the highest of those offsets, never beyond: events in
// flight (published but not yet projected) never show up as differences.
import type { Kafka } from 'kafkajs';
import type Redis from 'ioredis';
import { available, evolve, initialState, type MemberState } from '@loyalty/domain';
import { getRedisOffsets, getPostgresOffsets, POSTGRES_PROJECTION, quoteIdent, readEvents, redisKeys, type Queryable } from '@loyalty/read-models';

export interface Summary {
  available: number;
  lifetimeEarned: number;
  lifetimeRedeemed: number;
  lifetimeExpired: number;
  lifetimeReversed: number;
  lifetimeAdjusted: number;
  tier: string | null;
  sequence: number;
}

export const FIELDS: (keyof Summary)[] = ['available', 'lifetimeEarned', 'lifetimeRedeemed', 'lifetimeExpired', 'lifetimeReversed', 'lifetimeAdjusted', 'tier', 'sequence'];

export function summarize(s: MemberState): Summary {
  return {
    available: available(s),
    lifetimeEarned: s.earned,
    lifetimeRedeemed: s.rare.redeemed,
    lifetimeExpired: s.rare.expired,
    lifetimeReversed: s.rare.reversed,
    lifetimeAdjusted: s.rare.adjusted,
    tier: s.tier === '' ? null : s.tier,
    sequence: s.sequence,
  };
}

/** A read model's rows and the offsets window they are consistent with. */
export interface StoreSnapshot {
  readonly store: 'postgres' | 'redis';
  /** Where the rows came from, e.g. schema `loyalty` or prefix `loyalty:`. */
  readonly where: string;
  readonly ready: boolean;
  readonly lo: Map<number, bigint>;
  readonly hi: Map<number, bigint>;
  readonly rows: Map<string, Summary>;
}

export async function snapshotPostgres(client: Queryable, o: { schema: string; topic: string; projection?: string }): Promise<StoreSnapshot> {
  const s = quoteIdent(o.schema);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const offsets = await getPostgresOffsets(client, { schema: o.schema, projection: o.projection ?? POSTGRES_PROJECTION.name, topic: o.topic });
    const at = new Map(offsets.map((x) => [x.partition, BigInt(x.nextOffset)]));
    const rows = new Map<string, Summary>();
    let after = '';
    for (;;) {
      const { rows: page } = await client.query(
        `SELECT member_id, available::text, lifetime_earned::text, lifetime_redeemed::text, lifetime_expired::text, lifetime_reversed::text,
                lifetime_adjusted::text, tier, sequence::text
         FROM ${s}.member_balances WHERE member_id > $1 ORDER BY member_id LIMIT 10000`,
        [after],
      );
      for (const r of page) {
        rows.set(r.member_id, {
          available: Number(r.available),
          lifetimeEarned: Number(r.lifetime_earned),
          lifetimeRedeemed: Number(r.lifetime_redeemed),
          lifetimeExpired: Number(r.lifetime_expired),
          lifetimeReversed: Number(r.lifetime_reversed),
          lifetimeAdjusted: Number(r.lifetime_adjusted),
          tier: r.tier ?? null,
          sequence: Number(r.sequence),
        });
      }
      if (page.length < 10000) break;
      after = page[page.length - 1].member_id;
    }
    await client.query('COMMIT');
    return { store: 'postgres', where: `schema ${o.schema}`, ready: true, lo: at, hi: at, rows };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export async function snapshotRedis(redis: Redis, o: { prefix: string }): Promise<StoreSnapshot> {
  const toMap = (offs: { partition: number; nextOffset: string }[]) => new Map(offs.map((x) => [x.partition, BigInt(x.nextOffset)]));
  const before = await getRedisOffsets(redis, { prefix: o.prefix });
  const rows = new Map<string, Summary>();
  const balPrefix = redisKeys.balance(o.prefix, '');
  const pattern = `${balPrefix.replace(/([*?[\]\\])/g, '\\$1')}*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipe = redis.pipeline();
    for (const k of keys) pipe.hgetall(k);
    const res = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      const [err, h] = res[i] as [Error | null, Record<string, string>];
      if (err) throw err;
      if (!h || Object.keys(h).length === 0) return;
      const n = (v: string | undefined) => (v === undefined || v === '' ? 0 : Number(v));
      rows.set(k.slice(balPrefix.length), {
        available: n(h.available),
        lifetimeEarned: n(h.lifetimeEarned),
        lifetimeRedeemed: n(h.lifetimeRedeemed),
        lifetimeExpired: n(h.lifetimeExpired),
        lifetimeReversed: n(h.lifetimeReversed),
        lifetimeAdjusted: n(h.lifetimeAdjusted),
        tier: h.tier ? h.tier : null,
        sequence: n(h.sequence),
      });
    });
  } while (cursor !== '0');
  const after = await getRedisOffsets(redis, { prefix: o.prefix });
  const ready = before.ready && after.ready && before.epoch === after.epoch;
  return { store: 'redis', where: `prefix ${o.prefix}`, ready, lo: toMap(before.offsets), hi: toMap(after.offsets), rows };
}

export interface Difference {
  memberId: string;
  field: keyof Summary | 'member';
  expected: string;
  /** Per store: the stored value, or undefined when that store agrees / is not compared. */
  actual: Partial<Record<'postgres' | 'redis', string>>;
}

export interface VerifyReport {
  members: number;
  events: number;
  stores: { store: string; where: string; ready: boolean; members: number; offsets: Record<number, string> }[];
  differences: Difference[];
}

interface Trail {
  /** Summary before the first event at or past the lowest bound of its partition. */
  base: Summary;
  /** After each event at or past that bound: [offset, summary]. */
  steps: [bigint, Summary][];
}

const ABSENT: Summary = summarize(initialState(''));

function show(v: unknown): string {
  return v === null || v === undefined ? '-' : String(v);
}

/** Folds the events below each store's bounds and compares. */
export async function verifyStores(o: {
  kafka: Kafka;
  topic: string;
  snapshots: StoreSnapshot[];
  onEvents?: (n: number) => void;
  /** Called once the fold knows how many records it has to read (events and transaction markers). */
  onPlan?: (records: number) => void;
  /** Only events with recordedAt <= until (point-in-time snapshots). */
  until?: string;
}): Promise<VerifyReport> {
  const snaps = o.snapshots.filter((s) => s.ready);
  const partitions = new Set<number>();
  for (const s of snaps) for (const p of [...s.lo.keys(), ...s.hi.keys()]) partitions.add(p);
  const minLo = new Map<number, bigint>();
  const maxHi = new Map<number, bigint>();
  for (const p of partitions) {
    let lo: bigint | undefined;
    let hi = 0n;
    for (const s of snaps) {
      const l = s.lo.get(p) ?? 0n;
      const h = s.hi.get(p) ?? 0n;
      if (lo === undefined || l < lo) lo = l;
      if (h > hi) hi = h;
    }
    minLo.set(p, lo ?? 0n);
    maxHi.set(p, hi);
  }
  const states = new Map<string, MemberState>();
  const partitionOf = new Map<string, number>();
  const trails = new Map<string, Trail>();
  const untilMs = o.until ? Date.parse(o.until) : undefined;
  const from = new Map([...maxHi].filter(([, h]) => h > 0n).map(([p]) => [p, 0n] as [number, bigint]));
  o.onPlan?.([...from.keys()].reduce((n, p) => n + Number(maxHi.get(p)!), 0));
  const read = from.size
    ? await readEvents({
        kafka: o.kafka,
        topic: o.topic,
        from,
        to: maxHi,
        groupPrefix: 'loyalty-ops-verify',
        onBatch: (p, events) => {
          const lo = minLo.get(p)!;
          for (const { offset, envelope } of events) {
            if (untilMs !== undefined && Date.parse(envelope.recordedAt) > untilMs) continue;
            const id = envelope.memberId;
            const before = states.get(id) ?? initialState(id);
            const after = evolve(before, envelope);
            states.set(id, after);
            partitionOf.set(id, p);
            const off = BigInt(offset);
            if (off >= lo) {
              let t = trails.get(id);
              if (!t) trails.set(id, (t = { base: summarize(before), steps: [] }));
              t.steps.push([off, summarize(after)]);
            }
          }
          o.onEvents?.(events.length);
        },
      })
    : { events: 0 };

  const finals = new Map<string, Summary>();
  for (const [id, s] of states) finals.set(id, summarize(s));

  /** The member's summary after the events below `bound` of its partition. */
  const at = (id: string, bound: bigint): Summary => {
    const t = trails.get(id);
    if (!t) return finals.get(id) ?? ABSENT;
    let s = t.base;
    for (const [off, sum] of t.steps) {
      if (off < bound) s = sum;
      else break;
    }
    return s;
  };

  const differences = new Map<string, Difference>();
  const note = (memberId: string, field: Difference['field'], expected: string, store: 'postgres' | 'redis', actual: string) => {
    const k = `${memberId}\u0000${field}`;
    let d = differences.get(k);
    if (!d) differences.set(k, (d = { memberId, field, expected, actual: {} }));
    d.actual[store] = actual;
  };

  const ids = new Set<string>([...finals.keys()]);
  for (const s of snaps) for (const id of s.rows.keys()) ids.add(id);
  for (const s of snaps) {
    for (const id of ids) {
      const row = s.rows.get(id);
      const p = partitionOf.get(id);
      let expected: Summary;
      if (p === undefined) expected = ABSENT;
      else {
        const lo = s.lo.get(p) ?? 0n;
        const hi = s.hi.get(p) ?? 0n;
        expected = at(id, lo);
        if (hi > lo && row && row.sequence !== expected.sequence) {
          // Moved during the read: accept the fold at the row's own batch boundary within [lo, hi].
          const t = trails.get(id);
          const match = t?.steps.find(([off, sum]) => off >= lo && off < hi && sum.sequence === row.sequence);
          expected = match ? match[1] : at(id, hi);
        }
      }
      if (expected.sequence === 0) {
        if (row) note(id, 'member', 'absent', s.store, 'present');
        continue;
      }
      if (!row) {
        note(id, 'member', 'present', s.store, 'absent');
        continue;
      }
      for (const f of FIELDS) {
        if (row[f] !== expected[f]) note(id, f, show(expected[f]), s.store, show(row[f]));
      }
    }
  }
  const diffs = [...differences.values()].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : FIELDS.indexOf(a.field as keyof Summary) - FIELDS.indexOf(b.field as keyof Summary)));
  return {
    members: [...finals.values()].filter((s) => s.sequence > 0).length,
    events: read.events,
    stores: o.snapshots.map((s) => ({
      store: s.store,
      where: s.where,
      ready: s.ready,
      members: s.rows.size,
      offsets: Object.fromEntries([...s.lo].map(([p, v]) => [p, s.hi.get(p) !== v ? `${v}..${s.hi.get(p)}` : String(v)])),
    })),
    differences: diffs,
  };
}

export function formatDifferences(diffs: Difference[], limit = 200): string {
  if (diffs.length === 0) return '';
  const rows = [['member', 'field', 'expected', 'postgres', 'redis'], ...diffs.slice(0, limit).map((d) => [d.memberId, d.field, d.expected, d.actual.postgres ?? '=', d.actual.redis ?? '='])];
  const widths = rows[0].map((_, i) => Math.min(40, Math.max(...rows.map((r) => r[i].length))));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  if (diffs.length > limit) lines.push(`… and ${diffs.length - limit} more`);
  return lines.join('\n') + '\n';
}
