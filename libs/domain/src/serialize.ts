// The member state as a compact string (the ledger stores it in the compacted topic
// loyalty.member-state, keyed by memberId).
//
// Format 4 (written): see serializeState below. Still read, and upcast on read:
// - format 3 has the layout of format 4, but its qualifying list holds the points of
//   open purchases too (format 4 keeps them in the purchases only: earned − reversed);
//   on read they are taken out of the list again;
// - format 2 is format 3 without `tierSince`, read as 0 (not known: no downgrade grace
//   period until the next tier change; `loyalty rebuild-ledger-state` computes it from
//   the events).
// The JSON form (written for a state format 4 cannot hold, e.g. a non-integer or a lot
// id not of the form L<n>) is a positional array, its format first: `[4, …]`, or
// `[1, …]` as earlier ledgers wrote it (qualifying as in format 3; `tierSince` last, 0
// when absent). Lists are flattened; instants
// are epoch seconds, delta-encoded within each list; lot ids `L<n>` are stored as
// the delta of n; programme versions of open purchases are interned.

import { LotList, PurchaseList } from './append-list';
import { lotIdFor } from './ids';
import { IdempotencyRecord, Lot, MemberState, OpenPurchase, flatToState } from './state';

export const STATE_FORMAT = 4;
/** The JSON form as written now, and as earlier ledgers wrote it (qualifying upcast on read). */
const JSON_FORMAT = 4;
const JSON_FORMAT_LEGACY = 1;

/**
 * Format 1-3 qualifying entries also held the points of open purchases: take those out
 * (entries were merged by instant, so each open purchase's points are in the entry at its
 * instant), keeping only the points of purchases no longer open.
 */
function upcastQualifying(pairs: number[], purchases: readonly OpenPurchase[]): number[] {
  if (pairs.length === 0) return pairs;
  for (const p of purchases) {
    const pts = p.earned - p.reversed;
    if (pts === 0) continue;
    for (let i = 0; i < pairs.length; i += 2) {
      if (pairs[i] === p.at) {
        pairs[i + 1] -= pts;
        break;
      }
    }
  }
  const out: number[] = [];
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i + 1] !== 0) out.push(pairs[i], pairs[i + 1]);
  return out;
}

type Cell = string | number | Cell[];

/** The JSON form (`[4, …]`). */
export function serializeStateJson(s: MemberState): string {
  const lots: Cell[] = [];
  let prevSeq = 0;
  let prevAt = 0;
  for (const l of s.lots.toArray()) {
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
  const qs = s.rare.qualifying;
  for (let i = 0; i < qs.length; i += 2) {
    qualifying.push(qs[i] - prevAt, qs[i + 1]);
    prevAt = qs[i];
  }
  const versions: string[] = [];
  const purchases: Cell[] = [];
  prevAt = 0;
  let prevPSeq = 0;
  for (const p of s.purchases.toArray()) {
    let v = versions.indexOf(p.programVersion);
    if (v < 0) v = versions.push(p.programVersion) - 1;
    purchases.push([p.id, p.at - prevAt, p.amount, p.refunded, p.earned, p.reversed, v, p.sequence - prevPSeq, ...p.refundIds]);
    prevAt = p.at;
    prevPSeq = p.sequence;
  }
  const idem: Cell[] = s.rare.idempotency.map((r) => {
    const cells: Cell[] = [r.key, r.requestHash, r.at, KIND_CODE[r.kind], r.ref, r.points, r.available, r.sequence];
    if (r.kind === 'refusal') cells.push(r.message ?? '');
    return cells;
  });
  const out: Cell[] = [
    JSON_FORMAT,
    s.memberId,
    s.sequence,
    s.enrolled ? 1 : 0,
    s.tier,
    s.earned,
    s.rare.redeemed,
    s.rare.expired,
    s.rare.reversed,
    s.rare.adjusted,
    s.rare.debt,
    s.rare.birthdayMonth,
    s.rare.lastBirthdayYear,
    s.rare.referredBy ?? 0,
    s.rare.lastReviewAt,
    s.purchaseCount,
    lots,
    qualifying,
    versions,
    purchases,
    idem,
    s.rare.referees.slice(),
    s.rare.tierSince,
  ];
  return JSON.stringify(out);
}

export class StateFormatError extends Error {}

// Idempotency record kinds; `refusal` (2) came with RedemptionRefused, and only its
// records carry one more field (the message), so states without refusals read as before.
const KIND_CODE: Record<IdempotencyRecord['kind'], number> = { redemption: 0, adjustment: 1, refusal: 2 };
function kindOf(code: number): IdempotencyRecord['kind'] {
  if (code === 0) return 'redemption';
  if (code === 1) return 'adjustment';
  if (code === 2) return 'refusal';
  throw new StateFormatError(`unknown idempotency record kind ${code}`);
}

export function deserializeState(raw: string): MemberState {
  const c = raw.charCodeAt(0);
  if (c === 52 /* 4 */) return new Reader(raw, 4).state();
  if (c === 51 /* 3 */) return new Reader(raw, 3).state();
  if (c === 50 /* 2 */) return new Reader(raw, 2).state();
  return deserializeJson(raw);
}

function deserializeJson(json: string): MemberState {
  const a = JSON.parse(json) as unknown[];
  if (!Array.isArray(a) || (a[0] !== JSON_FORMAT && a[0] !== JSON_FORMAT_LEGACY)) {
    throw new StateFormatError(`unknown member state format ${Array.isArray(a) ? String(a[0]) : typeof a}`);
  }
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
  let qualifying: number[] = [];
  prevAt = 0;
  for (let i = 0; i < qRaw.length; i += 2) {
    prevAt += qRaw[i];
    qualifying.push(prevAt, qRaw[i + 1]);
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
  if (a[0] === JSON_FORMAT_LEGACY) qualifying = upcastQualifying(qualifying, purchases);
  const idempotency: IdempotencyRecord[] = (a[20] as Cell[][]).map((c) => {
    const kind = kindOf(c[3] as number);
    const r: IdempotencyRecord = {
      key: c[0] as string,
      requestHash: c[1] as string,
      at: c[2] as number,
      kind,
      ref: c[4] as string,
      points: c[5] as number,
      available: c[6] as number,
      sequence: c[7] as number,
    };
    return kind === 'refusal' ? { ...r, message: c[8] as string } : r;
  });
  return flatToState({
    memberId: a[1] as string,
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
    lots: LotList.of(lots),
    qualifying,
    purchases: PurchaseList.of(purchases),
    idempotency,
    referees: a[21] as string[],
    tierSince: (a[22] as number | undefined) ?? 0,
  });
}

// ---- Format 4 (and 3, 2) --------------------------------------------------------
//
// One ASCII string, `4` first (`3`, `2`: see the top of this file), then fields in a fixed order; no JSON, no escaping.
// - A scalar is a varint over the 64 characters of DIGITS: 5 bits per character, low
//   bits first; a character from the upper half means more follow. Signed values
//   are zigzag-encoded (2|v| + sign).
// - A string is its length (varint) and its characters, as they are.
// - A list of n records is stored by columns. A numeric column is one width
//   character w (0-9) and then n values of exactly w base-64 characters (w = 0 when all
//   are 0: refunded, reversed …). Instants and sequences are delta-encoded within the
//   list (first value absolute, then differences), all in whole epoch seconds, exact:
//   expiry and the windows are decided to the second, so no precision is dropped.
// - Purchase ids are front-coded (length of the prefix shared with the previous id,
//   then the rest): the full ids stay, since refunds and de-duplication need them
//   exactly. Lot ids `L<n>` are stored as n. Programme versions are interned.
// A state with anything else (a number that is not a safe integer below 2^52, a lot
// id of another form) is written in format 1 instead; all three are read.

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUE[DIGITS.charCodeAt(i)] = i;
const LIMIT = 2 ** 52;

/** n of a lot id `L<n>` (1 to 15 digits, no leading zero); Unencodable for any other id. */
function lotNumber(id: string): number {
  const len = id.length;
  if (len < 2 || len > 16 || id.charCodeAt(0) !== 76 /* L */ || id.charCodeAt(1) === 48 /* 0 */) throw new Unencodable();
  let n = 0;
  for (let i = 1; i < len; i++) {
    const d = id.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new Unencodable();
    n = n * 10 + d;
  }
  return n;
}

class Unencodable extends Error {}

/** v zigzag-encoded (2|v| + sign), for the signed columns; Unencodable beyond ±2^51. */
function zigzag(v: number): number {
  if (!Number.isInteger(v) || v >= LIMIT / 2 || v <= -LIMIT / 2) throw new Unencodable();
  return v < 0 ? -2 * v - 1 : 2 * v;
}

/** Thrown by a Latin-1 writer at a char above U+00FF: the state is written again by a wide one. */
class Wide extends Error {}

const DIGIT_CODES = Array.from(DIGITS, (c) => c.charCodeAt(0));
/** The writers' output buffers, reused (a state is written synchronously, start to end). */
let latin1Out: Buffer = Buffer.allocUnsafe(4096);
let utf16Out = new Uint16Array(4096);

/**
 * Writes the chars of format 4 into a reused buffer, one code at a time, and makes the
 * string once at the end: bytes when every char is Latin-1 (a state's strings nearly
 * always are), else UTF-16 code units as they are. (Building it by concatenation made a
 * rope of a char or two per node, about 20 µs for a year of weekly purchases.)
 */
class Writer {
  private out: Buffer | Uint16Array;
  private n = 0;

  constructor(private readonly wide: boolean) {
    this.out = wide ? utf16Out : latin1Out;
    this.out[this.n++] = 52; // '4'
  }

  /** Room for k more chars. */
  private room(k: number): void {
    if (this.n + k <= this.out.length) return;
    const size = Math.max(2 * this.out.length, this.n + k);
    if (this.wide) {
      const bigger = new Uint16Array(size);
      bigger.set(this.out.subarray(0, this.n));
      this.out = utf16Out = bigger;
    } else {
      const bigger = Buffer.allocUnsafe(size);
      (this.out as Buffer).copy(bigger, 0, 0, this.n);
      this.out = latin1Out = bigger;
    }
  }

  u(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v >= LIMIT) throw new Unencodable();
    this.room(11); // 52 bits, 5 a char
    const out = this.out;
    // above 2^31 - 1 in floating point, below with integer operations (a float % is a call)
    while (v > 0x7fffffff) {
      const low = v % 32;
      out[this.n++] = DIGIT_CODES[32 + low];
      v = (v - low) / 32;
    }
    while (v >= 32) {
      out[this.n++] = DIGIT_CODES[32 + (v & 31)];
      v >>>= 5;
    }
    out[this.n++] = DIGIT_CODES[v];
  }

  s(v: number): void {
    if (!Number.isInteger(v) || v >= LIMIT || v <= -LIMIT) throw new Unencodable();
    this.u(v < 0 ? -2 * v - 1 : 2 * v);
  }

  /** The chars of v from `from` on, after their count. */
  str(v: string, from = 0): void {
    const end = v.length;
    this.u(end - from);
    this.room(end - from);
    const out = this.out;
    let n = this.n;
    for (let i = from; i < end; i++) {
      const c = v.charCodeAt(i);
      if (c > 255 && !this.wide) throw new Wide();
      out[n++] = c;
    }
    this.n = n;
  }

  /** A column of non-negative integers, fixed width. */
  col(vs: readonly number[]): void {
    let max = 0;
    for (let i = 0; i < vs.length; i++) {
      const v = vs[i];
      if (!Number.isInteger(v) || v < 0 || v >= LIMIT) throw new Unencodable();
      if (v > max) max = v;
    }
    const w = this.width(max, vs.length);
    for (let i = 0; i < vs.length; i++) this.fixed(vs[i], w);
  }

  /** A column of signed integers (zigzag). */
  scol(vs: readonly number[]): void {
    let max = 0;
    for (let i = 0; i < vs.length; i++) {
      const z = zigzag(vs[i]);
      if (z > max) max = z;
    }
    const w = this.width(max, vs.length);
    for (let i = 0; i < vs.length; i++) this.fixed(zigzag(vs[i]), w);
  }

  /** First value absolute (signed scalar), then the differences as a signed column. */
  deltas(vs: readonly number[]): void {
    if (vs.length === 0) return;
    this.s(vs[0]);
    let max = 0;
    for (let i = 1; i < vs.length; i++) {
      const z = zigzag(vs[i] - vs[i - 1]);
      if (z > max) max = z;
    }
    const w = this.width(max, vs.length - 1);
    for (let i = 1; i < vs.length; i++) this.fixed(zigzag(vs[i] - vs[i - 1]), w);
  }

  /** The width of a column of n values up to max (its first char, written here), with room for them. */
  private width(max: number, n: number): number {
    let w = 0;
    for (let m = max; m > 0; m = Math.floor(m / 64)) w++;
    this.room(1 + w * n);
    this.out[this.n++] = DIGIT_CODES[w];
    return w;
  }

  /** v in exactly w chars, most significant first (room made by width). */
  private fixed(v: number, w: number): void {
    const out = this.out;
    const at = this.n;
    for (let k = w - 1; k >= 0; k--) {
      // integer operations below 2^31 (a float % is a call)
      if (v > 0x7fffffff) {
        const low = v % 64;
        out[at + k] = DIGIT_CODES[low];
        v = (v - low) / 64;
      } else {
        out[at + k] = DIGIT_CODES[v & 63];
        v >>>= 6;
      }
    }
    this.n = at + w;
  }

  /** The string written. */
  text(): string {
    if (!this.wide) return (this.out as Buffer).toString('latin1', 0, this.n);
    let s = '';
    for (let i = 0; i < this.n; i += 8192) s += String.fromCharCode.apply(null, Array.from(this.out.subarray(i, Math.min(this.n, i + 8192))));
    return s;
  }
}

class Reader {
  i = 1;
  constructor(
    private readonly raw: string,
    private readonly format: 2 | 3 | 4,
  ) {}

  private digit(): number {
    const c = this.raw.charCodeAt(this.i++);
    const v = c < 128 ? VALUE[c] : -1;
    if (v < 0) throw new StateFormatError(`bad member state at ${this.i - 1}`);
    return v;
  }

  u(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const d = this.digit();
      if (d < 32) return v + d * scale;
      v += (d - 32) * scale;
      scale *= 32;
    }
  }

  s(): number {
    const z = this.u();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  str(): string {
    const n = this.u();
    const from = this.i;
    this.i += n;
    if (this.i > this.raw.length) throw new StateFormatError('truncated member state');
    return this.raw.slice(from, this.i);
  }

  col(n: number): number[] {
    const w = this.digit();
    const out = new Array<number>(n);
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k < w; k++) v = v * 64 + this.digit();
      out[j] = v;
    }
    return out;
  }

  scol(n: number): number[] {
    const z = this.col(n);
    for (let j = 0; j < n; j++) z[j] = z[j] % 2 === 0 ? z[j] / 2 : -(z[j] + 1) / 2;
    return z;
  }

  deltas(n: number): number[] {
    if (n === 0) return [];
    const first = this.s();
    const d = this.scol(n - 1);
    const out = new Array<number>(n);
    out[0] = first;
    for (let j = 1; j < n; j++) out[j] = out[j - 1] + d[j - 1];
    return out;
  }

  state(): MemberState {
    const memberId = this.str();
    const sequence = this.u();
    const enrolled = this.u() === 1;
    const tier = this.str();
    const earned = this.u();
    const redeemed = this.u();
    const expired = this.u();
    const reversed = this.u();
    const adjusted = this.s();
    const debt = this.s();
    const birthdayMonth = this.u();
    const lastBirthdayYear = this.u();
    const referredBy = this.u() === 1 ? this.str() : null;
    const lastReviewAt = this.u();
    const purchaseCount = this.u();
    const tierSince = this.format >= 3 ? this.u() : 0;

    const nl = this.u();
    const lotSeq = this.deltas(nl);
    const lotRem = this.col(nl);
    const lotExp = this.deltas(nl);
    const lots: Lot[] = new Array(nl);
    for (let j = 0; j < nl; j++) lots[j] = { id: lotIdFor(lotSeq[j]), remaining: lotRem[j], expiresAt: lotExp[j] };

    const nq = this.u();
    const qAt = this.deltas(nq);
    const qPts = this.scol(nq);
    let qualifying: number[] = new Array(2 * nq);
    for (let j = 0; j < nq; j++) {
      qualifying[2 * j] = qAt[j];
      qualifying[2 * j + 1] = qPts[j];
    }

    const np = this.u();
    const ids: string[] = new Array(np);
    let prev = '';
    for (let j = 0; j < np; j++) {
      const shared = this.u();
      prev = prev.slice(0, shared) + this.str();
      ids[j] = prev;
    }
    const pAt = this.deltas(np);
    const amount = this.col(np);
    const refunded = this.col(np);
    const pEarned = this.col(np);
    const pReversed = this.col(np);
    const versions: string[] = new Array(this.u());
    for (let j = 0; j < versions.length; j++) versions[j] = this.str();
    const version = this.col(np);
    const pSeq = this.deltas(np);
    const nRefunds = this.col(np);
    const purchases: OpenPurchase[] = new Array(np);
    for (let j = 0; j < np; j++) {
      const refundIds: string[] = new Array(nRefunds[j]);
      for (let k = 0; k < refundIds.length; k++) refundIds[k] = this.str();
      purchases[j] = {
        id: ids[j],
        at: pAt[j],
        amount: amount[j],
        refunded: refunded[j],
        earned: pEarned[j],
        reversed: pReversed[j],
        programVersion: versions[version[j]],
        sequence: pSeq[j],
        refundIds,
      };
    }

    if (this.format < 4) qualifying = upcastQualifying(qualifying, purchases);
    const ni = this.u();
    const idempotency: IdempotencyRecord[] = new Array(ni);
    for (let j = 0; j < ni; j++) {
      const r: IdempotencyRecord = {
        key: this.str(),
        requestHash: this.str(),
        at: this.s(),
        kind: kindOf(this.u()),
        ref: this.str(),
        points: this.s(),
        available: this.s(),
        sequence: this.u(),
      };
      idempotency[j] = r.kind === 'refusal' ? { ...r, message: this.str() } : r;
    }
    const referees: string[] = new Array(this.u());
    for (let j = 0; j < referees.length; j++) referees[j] = this.str();
    if (this.i !== this.raw.length) throw new StateFormatError('trailing data in member state');
    return flatToState({
      memberId,
      sequence,
      enrolled,
      tier,
      earned,
      redeemed,
      expired,
      reversed,
      adjusted,
      debt,
      birthdayMonth,
      lastBirthdayYear,
      referredBy,
      lastReviewAt,
      purchaseCount,
      tierSince,
      lots: LotList.of(lots),
      qualifying,
      purchases: PurchaseList.of(purchases),
      idempotency,
      referees,
    });
  }
}

/** The member state as a compact string (format 4; the JSON form when format 4 cannot hold it). */
export function serializeState(s: MemberState): string {
  try {
    try {
      return serializeCompact(s, false);
    } catch (e) {
      if (e instanceof Wide) return serializeCompact(s, true);
      throw e;
    }
  } catch (e) {
    if (e instanceof Unencodable) return serializeStateJson(s);
    throw e;
  }
}

/** Format 4 written as UTF-16 code units whatever the chars (the path of states with a char above U+00FF); for the tests. */
export function serializeStateWide(s: MemberState): string {
  return serializeCompact(s, true);
}

function serializeCompact(s: MemberState, wide: boolean): string {
  const w = new Writer(wide);
  w.str(s.memberId);
  w.u(s.sequence);
  w.u(s.enrolled ? 1 : 0);
  w.str(s.tier);
  w.u(s.earned);
  w.u(s.rare.redeemed);
  w.u(s.rare.expired);
  w.u(s.rare.reversed);
  w.s(s.rare.adjusted);
  w.s(s.rare.debt);
  w.u(s.rare.birthdayMonth);
  w.u(s.rare.lastBirthdayYear);
  if (s.rare.referredBy === null) w.u(0);
  else {
    w.u(1);
    w.str(s.rare.referredBy);
  }
  w.u(s.rare.lastReviewAt);
  w.u(s.purchaseCount);
  w.u(s.rare.tierSince);

  const lots = s.lots;
  w.u(lots.length);
  const lotSeq = lots.column('id').map(lotNumber);
  w.deltas(lotSeq);
  w.col(lots.column('remaining'));
  w.deltas(lots.column('expiresAt'));

  const q = s.rare.qualifying;
  const nq = q.length >> 1;
  const qAt = new Array<number>(nq);
  const qPts = new Array<number>(nq);
  for (let j = 0; j < nq; j++) {
    qAt[j] = q[2 * j];
    qPts[j] = q[2 * j + 1];
  }
  w.u(nq);
  w.deltas(qAt);
  w.scol(qPts);

  const ps = s.purchases;
  w.u(ps.length);
  let prev = '';
  for (const id of ps.column('id')) {
    const max = Math.min(prev.length, id.length);
    let shared = 0;
    while (shared < max && prev.charCodeAt(shared) === id.charCodeAt(shared)) shared++;
    // never split a surrogate pair
    if (shared > 0 && shared < id.length && (id.charCodeAt(shared - 1) & 0xfc00) === 0xd800) shared--;
    w.u(shared);
    w.str(id, shared);
    prev = id;
  }
  w.deltas(ps.column('at'));
  w.col(ps.column('amount'));
  w.col(ps.column('refunded'));
  w.col(ps.column('earned'));
  w.col(ps.column('reversed'));
  const versions: string[] = [];
  const version = ps.column('programVersion').map((pv) => {
    let v = versions.indexOf(pv);
    if (v < 0) v = versions.push(pv) - 1;
    return v;
  });
  w.u(versions.length);
  for (const v of versions) w.str(v);
  w.col(version);
  w.deltas(ps.column('sequence'));
  const refundIds = ps.column('refundIds');
  w.col(refundIds.map((r) => r.length));
  for (const rs of refundIds) for (const r of rs) w.str(r);

  w.u(s.rare.idempotency.length);
  for (const r of s.rare.idempotency) {
    w.str(r.key);
    w.str(r.requestHash);
    w.s(r.at);
    w.u(KIND_CODE[r.kind]);
    w.str(r.ref);
    w.s(r.points);
    w.s(r.available);
    w.u(r.sequence);
    if (r.kind === 'refusal') w.str(r.message ?? '');
  }
  w.u(s.rare.referees.length);
  for (const r of s.rare.referees) w.str(r);
  return w.text();
}
