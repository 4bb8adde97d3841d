// Compact JSON for the member state (the ledger stores it in the compacted topic
// loyalty.member-state, keyed by memberId).
//
// Layout: a positional array, format version first. Lists are flattened; instants
// are epoch seconds, delta-encoded within each list; lot ids `L<n>` are stored as
// the delta of n; programme versions of open purchases are interned.

import { IdempotencyRecord, Lot, MemberState, OpenPurchase, QualifyingEntry, initialState } from './state';

export const STATE_FORMAT = 1;

type Cell = string | number | Cell[];

export function serializeState(s: MemberState): string {
  const lots: Cell[] = [];
  let prevSeq = 0;
  let prevAt = 0;
  for (const l of s.lots) {
    const m = /^L(\d+)$/.exec(l.id);
    if (m !== null) {
      const n = +m[1];
      lots.push(n - prevSeq);
      prevSeq = n;
    } else {
      lots.push(l.id);
    }
    lots.push(l.remaining, l.expiresAt - prevAt);
    prevAt = l.expiresAt;
  }
  const qualifying: number[] = [];
  prevAt = 0;
  for (const q of s.qualifying) {
    qualifying.push(q.at - prevAt, q.points);
    prevAt = q.at;
  }
  const versions: string[] = [];
  const purchases: Cell[] = [];
  prevAt = 0;
  let prevPSeq = 0;
  for (const p of s.purchases) {
    let v = versions.indexOf(p.programVersion);
    if (v < 0) v = versions.push(p.programVersion) - 1;
    purchases.push([p.id, p.at - prevAt, p.amount, p.refunded, p.earned, p.reversed, v, p.sequence - prevPSeq, ...p.refundIds]);
    prevAt = p.at;
    prevPSeq = p.sequence;
  }
  const idem: Cell[] = s.idempotency.map((r) => [r.key, r.requestHash, r.at, r.kind === 'redemption' ? 0 : 1, r.ref, r.points, r.available, r.sequence]);
  const out: Cell[] = [
    STATE_FORMAT,
    s.memberId,
    s.sequence,
    s.enrolled ? 1 : 0,
    s.tier,
    s.earned,
    s.redeemed,
    s.expired,
    s.reversed,
    s.adjusted,
    s.debt,
    s.birthdayMonth,
    s.lastBirthdayYear,
    s.referredBy ?? 0,
    s.lastReviewAt,
    s.purchaseCount,
    lots,
    qualifying,
    versions,
    purchases,
    idem,
    s.referees.slice(),
  ];
  return JSON.stringify(out);
}

export class StateFormatError extends Error {}

export function deserializeState(json: string): MemberState {
  const a = JSON.parse(json) as unknown[];
  if (!Array.isArray(a) || a[0] !== STATE_FORMAT) throw new StateFormatError(`unknown member state format ${Array.isArray(a) ? String(a[0]) : typeof a}`);
  const lotsRaw = a[16] as Cell[];
  const lots: Lot[] = [];
  let prevSeq = 0;
  let prevAt = 0;
  for (let i = 0; i < lotsRaw.length; i += 3) {
    const idCell = lotsRaw[i];
    let id: string;
    if (typeof idCell === 'number') {
      prevSeq += idCell;
      id = `L${prevSeq}`;
    } else id = idCell as string;
    prevAt += lotsRaw[i + 2] as number;
    lots.push({ id, remaining: lotsRaw[i + 1] as number, expiresAt: prevAt });
  }
  const qRaw = a[17] as number[];
  const qualifying: QualifyingEntry[] = [];
  prevAt = 0;
  for (let i = 0; i < qRaw.length; i += 2) {
    prevAt += qRaw[i];
    qualifying.push({ at: prevAt, points: qRaw[i + 1] });
  }
  const versions = a[18] as string[];
  const purchases: OpenPurchase[] = [];
  prevAt = 0;
  let prevPSeq = 0;
  for (const c of a[19] as Cell[][]) {
    prevAt += c[1] as number;
    prevPSeq += c[7] as number;
    purchases.push({
      id: c[0] as string,
      at: prevAt,
      amount: c[2] as number,
      refunded: c[3] as number,
      earned: c[4] as number,
      reversed: c[5] as number,
      programVersion: versions[c[6] as number],
      sequence: prevPSeq,
      refundIds: c.slice(8) as string[],
    });
  }
  const idempotency: IdempotencyRecord[] = (a[20] as Cell[][]).map((c) => ({
    key: c[0] as string,
    requestHash: c[1] as string,
    at: c[2] as number,
    kind: c[3] === 0 ? 'redemption' : 'adjustment',
    ref: c[4] as string,
    points: c[5] as number,
    available: c[6] as number,
    sequence: c[7] as number,
  }));
  return {
    ...initialState(a[1] as string),
    sequence: a[2] as number,
    enrolled: a[3] === 1,
    tier: a[4] as string,
    earned: a[5] as number,
    redeemed: a[6] as number,
    expired: a[7] as number,
    reversed: a[8] as number,
    adjusted: a[9] as number,
    debt: a[10] as number,
    birthdayMonth: a[11] as number,
    lastBirthdayYear: a[12] as number,
    referredBy: a[13] === 0 ? null : (a[13] as string),
    lastReviewAt: a[14] as number,
    purchaseCount: a[15] as number,
    lots,
    qualifying,
    purchases,
    idempotency,
    referees: a[21] as string[],
  };
}
