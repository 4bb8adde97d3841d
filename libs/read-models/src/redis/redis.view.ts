// What the Redis projection reads of one event (its "view"), from an upcast envelope or
// straight from the bytes of a `loyalty.events` record.
//
// `redisViewOf(envelope)` is the definition. `redisViewOfRecord(bytes)` is the live
// projector's fast path: it scans the JSON for the handful of fields the view needs,
// without building the envelope, and gives exactly what
// `redisViewOf(upcast(JSON.parse(bytes)))` gives. Whenever the record is not the plain
// case (a version that would be upcast, an unknown type, an escape in a field it reads, a
// number that is not a plain integer, anything JSON.parse might refuse or read
// differently), it falls back to that very expression, which also throws what it throws.
import { upcast, type EventEnvelope, type MemberEvent } from '@loyalty/domain';
import { assertKnown, KNOWN_VERSIONS, utcMonth } from '../projection/events';

export type Board = 'points' | 'spend';

export interface RedisEventView {
  readonly memberId: string;
  readonly sequence: number;
  readonly type: string;
  /** `data.points` of the events that move points (see `addPoints`), else 0. */
  readonly points: number;
  /** The tier the member is in after this event, or null when the event says nothing about it. */
  readonly tier: string | null;
  /** The leaderboard this event counts in (null: none, or a change of 0). */
  readonly board: Board | null;
  /** Signed change of that board's score. */
  readonly by: number;
  /** UTC month `YYYY-MM` of occurredAt, when `board` is set. */
  readonly month: string;
}

const POINT_TYPES = new Set(['PointsEarned', 'RewardRedeemed', 'PointsExpired', 'PointsReversed', 'PointsAdjusted']);

function view(memberId: string, sequence: number, type: string, points: number, tier: string | null, board: Board | null, by: number, occurredAt: string | undefined): RedisEventView {
  return { memberId, sequence, type, points, tier, board, by, month: board === null ? '' : utcMonth(occurredAt as string) };
}

/** The view of an upcast envelope (throws UnknownEventError for a type or version this projection does not know). */
export function redisViewOf(env: EventEnvelope): RedisEventView {
  assertKnown(env);
  const e = env as unknown as MemberEvent;
  const d = e.data as unknown as Record<string, unknown>;
  const points = POINT_TYPES.has(e.type) ? (d.points as number) : 0;
  let tier: string | null = null;
  let board: Board | null = null;
  let by = 0;
  switch (e.type) {
    case 'MemberEnrolled':
      if (e.data.tier) tier = e.data.tier;
      break;
    case 'TierChanged':
      tier = e.data.to;
      break;
    case 'PointsEarned':
    case 'PointsReversed':
      by = e.type === 'PointsEarned' ? e.data.points : -e.data.points;
      if (by !== 0) board = 'points';
      break;
    case 'PurchaseMade':
    case 'PurchaseRefunded':
      by = e.type === 'PurchaseMade' ? e.data.amount : -e.data.amount;
      if (by !== 0) board = 'spend';
      break;
    default:
      break;
  }
  return view(env.memberId, env.sequence, e.type, points, tier, board, by, env.occurredAt);
}

/** The slow path of `redisViewOfRecord`, and its definition. */
export function redisViewOfRecordSlow(value: Buffer): RedisEventView {
  return redisViewOf(upcast(JSON.parse(value.toString('utf8'))));
}

// ---- The scanner ---------------------------------------------------------------------
// Plain functions over (bytes, position), returning the position after what they read or
// -1 when the fast path cannot answer (then the slow path decides, and throws what
// JSON.parse throws). What they find lands in one reused object, `f`.

class Found {
  typeS = -1;
  typeE = -1;
  version = NaN;
  memberS = -1;
  memberE = -1;
  sequence = NaN;
  occS = -1;
  occE = -1;
  dataSeen = false;
  points = NaN;
  amount = NaN;
  tierPresent = false;
  tierS = -1;
  tierE = -1;
  toS = -1;
  toE = -1;
  /** Set by `str` when the string held an escape. */
  escaped = false;
  /** Set by `num`: the value of a plain integer of at most 15 digits, else NaN. */
  num = NaN;
  /** Set by `strField`: the start of the content. */
  start = -1;
}
const f = new Found();

function ws(b: Buffer, p: number, n: number): number {
  while (p < n) {
    const c = b[p];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return p;
    p++;
  }
  return p;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** At an opening quote: the position after the closing one (f.escaped tells whether it held an escape), or -1. */
function str(b: Buffer, p: number, n: number): number {
  p++;
  f.escaped = false;
  while (p < n) {
    const c = b[p];
    if (c === 0x22) return p + 1;
    if (c === 0x5c) {
      f.escaped = true;
      const x = b[p + 1];
      if (x === 0x75) {
        if (p + 5 >= n || !isHex(b[p + 2]) || !isHex(b[p + 3]) || !isHex(b[p + 4]) || !isHex(b[p + 5])) return -1;
        p += 6;
      } else if (x === 0x22 || x === 0x5c || x === 0x2f || x === 0x62 || x === 0x66 || x === 0x6e || x === 0x72 || x === 0x74) p += 2;
      else return -1;
      continue;
    }
    if (c < 0x20) return -1;
    p++;
  }
  return -1;
}

function digits(b: Buffer, p: number, n: number): number {
  while (p < n) {
    const c = b[p];
    if (c < 0x30 || c > 0x39) return p;
    p++;
  }
  return p;
}

/** A JSON number: the position after it (f.num: its value when a plain integer of at most 15 digits, else NaN), or -1. */
function num(b: Buffer, p: number, n: number): number {
  let neg = false;
  if (b[p] === 0x2d) {
    neg = true;
    p++;
  }
  const ds = p;
  if (p < n && b[p] === 0x30) p++;
  else {
    p = digits(b, p, n);
    if (p === ds) return -1;
  }
  let plain = p - ds <= 15;
  if (p < n && b[p] === 0x2e) {
    const s = ++p;
    p = digits(b, p, n);
    if (p === s) return -1;
    plain = false;
  }
  if (p < n && (b[p] === 0x65 || b[p] === 0x45)) {
    p++;
    if (p < n && (b[p] === 0x2b || b[p] === 0x2d)) p++;
    const s = p;
    p = digits(b, p, n);
    if (p === s) return -1;
    plain = false;
  }
  if (!plain) {
    f.num = NaN;
    return p;
  }
  let v = 0;
  for (let i = ds; i < p && (b[i] >= 0x30 && b[i] <= 0x39); i++) v = v * 10 + (b[i] - 0x30);
  f.num = neg ? (v === 0 ? NaN : -v) : v; // -0: left to JSON.parse
  return p;
}

function lit(b: Buffer, p: number, n: number, word: Uint8Array): number {
  if (p + word.length > n) return -1;
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word[i]) return -1;
  return p + word.length;
}
const K = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const TRUE = K('true');
const FALSE = K('false');
const NULL = K('null');

/** Skips (and checks) any JSON value at p (after whitespace). */
function skip(b: Buffer, p: number, n: number, depth: number): number {
  p = ws(b, p, n);
  if (p >= n) return -1;
  const c = b[p];
  if (c === 0x22) return str(b, p, n);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return num(b, p, n);
  if (c === 0x74) return lit(b, p, n, TRUE);
  if (c === 0x66) return lit(b, p, n, FALSE);
  if (c === 0x6e) return lit(b, p, n, NULL);
  if (c !== 0x7b && c !== 0x5b) return -1;
  if (depth > 64) return -1;
  const obj = c === 0x7b;
  const close = obj ? 0x7d : 0x5d;
  p = ws(b, p + 1, n);
  if (p < n && b[p] === close) return p + 1;
  for (;;) {
    if (obj) {
      p = ws(b, p, n);
      if (p >= n || b[p] !== 0x22) return -1;
      p = ws(b, str(b, p, n), n);
      if (p < 0 || p >= n || b[p] !== 0x3a) return -1;
      p++;
    }
    p = skip(b, p, n, depth + 1);
    if (p < 0) return -1;
    p = ws(b, p, n);
    if (p >= n) return -1;
    const x = b[p++];
    if (x === close) return p;
    if (x !== 0x2c) return -1;
  }
}

/** A plain string value (no escape): the position after it, its content at [f.start, result - 1); else -1. */
function strField(b: Buffer, p: number, n: number): number {
  p = ws(b, p, n);
  if (p >= n || b[p] !== 0x22) return -1;
  f.start = p + 1;
  const e = str(b, p, n);
  return e < 0 || f.escaped ? -1 : e;
}

/** A plain integer value: the position after it (value in f.num), else -1. */
function numField(b: Buffer, p: number, n: number): number {
  p = ws(b, p, n);
  if (p >= n) return -1;
  const c = b[p];
  if (c !== 0x2d && (c < 0x30 || c > 0x39)) return -1;
  p = num(b, p, n);
  return p < 0 || Number.isNaN(f.num) ? -1 : p;
}

function keyIs(b: Buffer, s: number, e: number, k: Uint8Array): boolean {
  if (e - s !== k.length) return false;
  for (let i = 0; i < k.length; i++) if (b[s + i] !== k[i]) return false;
  return true;
}
const K_TYPE = K('type');
const K_VERSION = K('version');
const K_MEMBER = K('memberId');
const K_SEQUENCE = K('sequence');
const K_OCCURRED = K('occurredAt');
const K_DATA = K('data');
const K_POINTS = K('points');
const K_AMOUNT = K('amount');
const K_TIER = K('tier');
const K_TO = K('to');

/** A key and its colon: the position after the colon (the key at [f.start, ke) with ke = result's key end in f.num), or -1. */
function key(b: Buffer, p: number, n: number): number {
  p = ws(b, p, n);
  if (p >= n || b[p] !== 0x22) return -1;
  const ks = p + 1;
  const e = str(b, p, n);
  if (e < 0 || f.escaped) return -1; // an escaped key may still be one of ours: the slow path reads it
  f.start = ks;
  f.num = e - 1;
  p = ws(b, e, n);
  if (p >= n || b[p] !== 0x3a) return -1;
  return p + 1;
}

function scanData(b: Buffer, p: number, n: number): number {
  p = ws(b, p, n);
  if (p >= n || b[p] !== 0x7b) return -1;
  // A repeated `data` replaces the earlier one, as in JSON.parse.
  f.dataSeen = true;
  f.points = f.amount = NaN;
  f.tierPresent = false;
  f.tierS = f.tierE = f.toS = f.toE = -1;
  p = ws(b, p + 1, n);
  if (p < n && b[p] === 0x7d) return p + 1;
  for (;;) {
    p = key(b, p, n);
    if (p < 0) return -1;
    const ks = f.start;
    const ke = f.num;
    if (keyIs(b, ks, ke, K_POINTS)) {
      p = numField(b, p, n);
      f.points = f.num;
    } else if (keyIs(b, ks, ke, K_AMOUNT)) {
      p = numField(b, p, n);
      f.amount = f.num;
    } else if (keyIs(b, ks, ke, K_TIER)) {
      f.tierPresent = true;
      p = strField(b, p, n);
      f.tierS = f.start;
      f.tierE = p - 1;
    } else if (keyIs(b, ks, ke, K_TO)) {
      p = strField(b, p, n);
      f.toS = f.start;
      f.toE = p - 1;
    } else p = skip(b, p, n, 1);
    if (p < 0) return -1;
    p = ws(b, p, n);
    if (p >= n) return -1;
    const x = b[p++];
    if (x === 0x7d) return p;
    if (x !== 0x2c) return -1;
  }
}

/** Scans the envelope's top level; false when the fast path cannot answer. */
function scan(b: Buffer): boolean {
  const n = b.length;
  f.typeS = f.typeE = f.memberS = f.memberE = f.occS = f.occE = -1;
  f.version = f.sequence = NaN;
  f.dataSeen = false;
  let p = ws(b, 0, n);
  if (p >= n || b[p] !== 0x7b) return false;
  for (p++; ; ) {
    p = key(b, p, n);
    if (p < 0) return false;
    const ks = f.start;
    const len = f.num - ks;
    if (len === 4 && keyIs(b, ks, ks + 4, K_TYPE)) {
      p = strField(b, p, n);
      f.typeS = f.start;
      f.typeE = p - 1;
    } else if (len === 7 && keyIs(b, ks, ks + 7, K_VERSION)) {
      p = numField(b, p, n);
      f.version = f.num;
    } else if (len === 8 && keyIs(b, ks, ks + 8, K_MEMBER)) {
      p = strField(b, p, n);
      f.memberS = f.start;
      f.memberE = p - 1;
    } else if (len === 8 && keyIs(b, ks, ks + 8, K_SEQUENCE)) {
      p = numField(b, p, n);
      f.sequence = f.num;
    } else if (len === 10 && keyIs(b, ks, ks + 10, K_OCCURRED)) {
      p = strField(b, p, n);
      f.occS = f.start;
      f.occE = p - 1;
    } else if (len === 4 && keyIs(b, ks, ks + 4, K_DATA)) p = scanData(b, p, n);
    else p = skip(b, p, n, 0);
    if (p < 0) return false;
    p = ws(b, p, n);
    if (p >= n) return false;
    const x = b[p++];
    if (x === 0x7d) break;
    if (x !== 0x2c) return false;
  }
  return ws(b, p, n) === n && f.typeS >= 0 && f.memberS >= 0 && f.dataSeen && !Number.isNaN(f.sequence);
}

/** Type names as their bytes, to find a type without decoding it. */
const TYPES: readonly { name: string; bytes: Uint8Array }[] = Object.keys(KNOWN_VERSIONS).map((name) => ({ name, bytes: K(name) }));

function typeName(b: Buffer): string | undefined {
  for (const t of TYPES) if (keyIs(b, f.typeS, f.typeE, t.bytes)) return t.name;
  return undefined;
}

function isAscii(b: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (b[i] >= 0x80) return false;
  return true;
}

/**
 * The view of one `loyalty.events` record: `redisViewOf(upcast(JSON.parse(value)))`,
 * without building the envelope in the plain case.
 */
export function redisViewOfRecord(value: Buffer): RedisEventView {
  if (!scan(value)) return redisViewOfRecordSlow(value);
  const type = typeName(value);
  // Only the current version of a known type: anything else is upcast (or refused) by the slow path.
  if (type === undefined || f.version !== (KNOWN_VERSIONS as Record<string, number>)[type]) return redisViewOfRecordSlow(value);
  let points = 0;
  let tier: string | null = null;
  let board: Board | null = null;
  let by = 0;
  if (POINT_TYPES.has(type)) {
    if (Number.isNaN(f.points)) return redisViewOfRecordSlow(value);
    points = f.points;
  }
  switch (type) {
    case 'MemberEnrolled':
      if (f.tierPresent && f.tierE > f.tierS) tier = value.toString('utf8', f.tierS, f.tierE);
      break;
    case 'TierChanged':
      if (f.toS < 0) return redisViewOfRecordSlow(value);
      tier = value.toString('utf8', f.toS, f.toE);
      break;
    case 'PointsEarned':
    case 'PointsReversed':
      by = type === 'PointsEarned' ? points : -points;
      if (by !== 0) board = 'points';
      break;
    case 'PurchaseMade':
    case 'PurchaseRefunded':
      if (Number.isNaN(f.amount)) return redisViewOfRecordSlow(value);
      by = type === 'PurchaseMade' ? f.amount : -f.amount;
      if (by !== 0) board = 'spend';
      break;
    default:
      break;
  }
  let month = '';
  if (board !== null) {
    if (f.occS < 0) return redisViewOfRecordSlow(value);
    const s = f.occS;
    const e = f.occE;
    // utcMonth's own fast path (UTC with milliseconds) needs only the first 7 characters.
    month = e - s === 24 && value[e - 1] === 0x5a && isAscii(value, s, e) ? value.toString('latin1', s, s + 7) : utcMonth(value.toString('utf8', s, e));
  }
  return { memberId: value.toString('utf8', f.memberS, f.memberE), sequence: f.sequence, type, points, tier, board, by, month };
}
