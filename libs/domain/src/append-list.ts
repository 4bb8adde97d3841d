// Immutable lists of records that append in O(1) (amortised) by sharing their storage
// with the list they were appended to. A list is a view of the first `length` records
// of a storage array; those records are never written again through another list. The
// storage counts the records appended to it so far (slot 0): when that count is this
// list's length, nothing was appended beyond this list yet, and `append` writes the new
// record in place (the list it came from still sees its own records, and only those);
// otherwise, or when the storage is full, it copies. A member state therefore gains a lot
// and a purchase without a copy of its lists, which would cost O(lots) per purchase and
// most of the garbage a purchase leaves behind.
//
// Records are stored flat, field by field (a lot is 3 slots, a purchase 10), not as
// objects: a member's purchases and lots are then 2 objects instead of 2 + one per record,
// which the garbage collector copies and marks far less often (a member state outlives
// the young generation: every object it holds is promoted), and reading a field of every
// open purchase (the qualifying window) reads one array instead of a record per purchase,
// each elsewhere in memory. `get(i)` builds the record (cold paths, tests); the decider's
// hot paths read fields (`field`) and the columns (`column`).
//
// A purchase's storage also keeps a hash of its id, so `indexOfId` compares small
// integers and reads an id only when the hash matches.
//
// Equality: jest's toEqual compares two lists by their records (the list is iterable and
// its storage is under a symbol, STORAGE), and JSON.stringify writes the records as an array.

import type { Lot, OpenPurchase } from './state';

type Storage = unknown[];

/** How a kind of record lies in the storage: `width` slots, field k at offset[k]. */
interface Layout<T> {
  readonly width: number;
  readonly offset: { readonly [K in keyof T]: number };
  write(s: Storage, at: number, x: T): void;
  read(s: Storage, at: number): T;
}

/**
 * The key of a list's storage. Not a #private field: V8 does not inline a subclass's
 * constructor into a base constructor that initialises private fields, so every list a
 * purchase made went through the generic construct stub. A symbol keeps the storage out
 * of jest's equality and of JSON all the same (both read string keys only).
 */
const STORAGE: unique symbol = Symbol('storage');

abstract class RecordList<T> implements Iterable<T> {
  /** [count, record 0 (width slots), record 1, …]: records [0, length) are this list's. */
  declare private readonly [STORAGE]: Storage;
  // declared, not class fields: a field is defined (as undefined) before the constructor runs
  declare readonly length: number;

  protected constructor(s: Storage, length: number) {
    this[STORAGE] = s;
    this.length = length;
  }

  /** How this kind of list lays its records out (the class's static `layout`). */
  protected layout(): Layout<T> {
    return (this.constructor as unknown as { readonly layout: Layout<T> }).layout;
  }

  /** A list of this kind over s. */
  protected make(s: Storage, length: number): this {
    return new (this.constructor as new (s: Storage, length: number) => this)(s, length);
  }

  /** A list of this kind of the records xs (this list itself when both are empty). */
  protected over(xs: readonly T[]): this {
    return xs.length === 0 && this.length === 0 ? this : this.make(fill(this.layout(), xs), xs.length);
  }

  protected storage(): Storage {
    return this[STORAGE];
  }

  /** The record at i (a new object), undefined outside [0, length). */
  get(i: number): T | undefined {
    if (!(i >= 0 && i < this.length)) return undefined;
    const l = this.layout();
    return l.read(this[STORAGE], 1 + i * l.width);
  }

  /** Field k of the record at i (0 <= i < length). */
  field<K extends keyof T>(i: number, k: K): T[K] {
    const l = this.layout();
    return this[STORAGE][1 + i * l.width + l.offset[k]] as T[K];
  }

  /** Field k of every record, in order (a new array). */
  column<K extends keyof T>(k: K): T[K][] {
    const l = this.layout();
    const out = new Array<T[K]>(this.length);
    for (let i = 0, j = 1 + l.offset[k]; i < this.length; i++, j += l.width) out[i] = this[STORAGE][j] as T[K];
    return out;
  }

  /** This list with x at its end; this list is unchanged. */
  append(x: T): this {
    const l = this.layout();
    const s = this.slotFor();
    l.write(s, 1 + this.length * l.width, x);
    return this.make(s, this.length + 1);
  }

  /**
   * The storage into which the record at index `length` may be written (by the caller,
   * at once): this list's own when nothing was appended beyond it and it has room, else a
   * copy with room for half as many again and a few (a list that grows keeps growing).
   * Either way its count is then length + 1.
   */
  protected slotFor(): Storage {
    const s = this[STORAGE];
    const n = this.length;
    const w = this.layout().width;
    if (s[0] === n && 1 + w * (n + 1) <= s.length) {
      s[0] = n + 1;
      return s;
    }
    const out = this.copy(n + 1 + (n >> 1) + 4);
    out[0] = n + 1;
    return out;
  }

  /** This list with x in place of the record at i (0 <= i < length): a copy; this list is unchanged. */
  with(i: number, x: T): this {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`index ${i} is outside a list of ${this.length}`);
    const l = this.layout();
    const out = this.copy(this.length + 1);
    l.write(out, 1 + i * l.width, x);
    return this.make(out, this.length);
  }

  /**
   * A list with field k of the record at i (0 <= i < length) set to v: this list, written
   * in place, when `inPlace` (the caller vouches that no list but its own sees record i),
   * else a copy (this list unchanged).
   */
  protected withField<K extends keyof T>(i: number, k: K, v: T[K], inPlace: boolean): this {
    const l = this.layout();
    const s = inPlace ? this[STORAGE] : this.copy(this.length + 1);
    s[1 + i * l.width + l.offset[k]] = v;
    return inPlace ? this : this.make(s, this.length);
  }

  /** A new storage of this list's records, with room for `capacity` records. */
  protected copy(capacity: number): Storage {
    const s = this[STORAGE];
    const n = 1 + this.length * this.layout().width;
    const out: Storage = new Array(1 + capacity * this.layout().width);
    out[0] = this.length;
    for (let j = 1; j < n; j++) out[j] = s[j];
    return out;
  }

  /** A new array of the records (the caller owns it). */
  toArray(): T[] {
    const out = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.get(i) as T;
    return out;
  }

  toJSON(): T[] {
    return this.toArray();
  }

  some(f: (x: T) => boolean): boolean {
    for (let i = 0; i < this.length; i++) if (f(this.get(i) as T)) return true;
    return false;
  }

  /** The records that pass f; this list itself when all do. */
  filter(f: (x: T) => boolean): this {
    const keep: T[] = [];
    for (let i = 0; i < this.length; i++) {
      const x = this.get(i) as T;
      if (f(x)) keep.push(x);
    }
    return keep.length === this.length ? this : this.over(keep);
  }

  map<U>(f: (x: T) => U): U[] {
    const out = new Array<U>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = f(this.get(i) as T);
    return out;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.get(i) as T;
  }
}

/** A storage holding exactly the records xs. */
function fill<T>(l: Layout<T>, xs: readonly T[]): Storage {
  const s: Storage = new Array(1 + xs.length * l.width);
  s[0] = xs.length;
  for (let i = 0; i < xs.length; i++) l.write(s, 1 + i * l.width, xs[i]);
  return s;
}

// ---- Lots -----------------------------------------------------------------------

const LOT: Layout<Lot> = {
  width: 3,
  offset: { id: 0, remaining: 1, expiresAt: 2 },
  write(s, at, x) {
    s[at] = x.id; // a string first: the storage holds any value from its first record on
    s[at + 1] = x.remaining;
    s[at + 2] = x.expiresAt;
  },
  read(s, at) {
    return { id: s[at] as string, remaining: s[at + 1] as number, expiresAt: s[at + 2] as number };
  },
};

/** A member's lots, oldest first. */
export class LotList extends RecordList<Lot> {
  static readonly layout = LOT;
  /** The empty list (shared: appends never write its storage, which has no room). */
  static readonly #empty = new LotList([0], 0);

  /** A list of the lots xs; the shared empty list when there are none. */
  static of(xs: readonly Lot[] = []): LotList {
    return LotList.#empty.over(xs);
  }

  /** append({ id, remaining, expiresAt }) without the record. */
  appendLot(id: string, remaining: number, expiresAt: number): LotList {
    const s = this.slotFor();
    const at = 1 + this.length * 3;
    s[at] = id;
    s[at + 1] = remaining;
    s[at + 2] = expiresAt;
    return new LotList(s, this.length + 1);
  }

  /** These lots less the points taken from each (by lot id); lots that reach zero are dropped. */
  take(taken: readonly { readonly lotId: string; readonly points: number }[]): LotList {
    if (taken.length === 0) return this;
    const s = this.storage();
    const out: Lot[] = [];
    for (let i = 0, at = 1; i < this.length; i++, at += 3) {
      const id = s[at] as string;
      let rem = s[at + 1] as number;
      for (let j = 0; j < taken.length; j++) if (taken[j].lotId === id) rem -= taken[j].points;
      if (rem > 0) out.push({ id, remaining: rem, expiresAt: s[at + 2] as number });
    }
    return LotList.of(out);
  }
}

// ---- Purchases ------------------------------------------------------------------

const EMPTY: readonly never[] = Object.freeze([]);

// Slot 0 of a purchase is the hash of its id (see indexOfId), then its fields.
const PURCHASE: Layout<OpenPurchase> = {
  width: 10,
  offset: { id: 1, at: 2, amount: 3, refunded: 4, earned: 5, reversed: 6, programVersion: 7, sequence: 8, refundIds: 9 },
  write(s, at, x) {
    s[at] = idHash(x.id);
    s[at + 1] = x.id;
    s[at + 2] = x.at;
    s[at + 3] = x.amount;
    s[at + 4] = x.refunded;
    s[at + 5] = x.earned;
    s[at + 6] = x.reversed;
    s[at + 7] = x.programVersion;
    s[at + 8] = x.sequence;
    s[at + 9] = x.refundIds;
  },
  read(s, at) {
    return {
      id: s[at + 1] as string,
      at: s[at + 2] as number,
      amount: s[at + 3] as number,
      refunded: s[at + 4] as number,
      earned: s[at + 5] as number,
      reversed: s[at + 6] as number,
      programVersion: s[at + 7] as string,
      sequence: s[at + 8] as number,
      refundIds: s[at + 9] as readonly string[],
    };
  },
};

/** A member's open purchases, in the order of their PurchaseMade events. */
export class PurchaseList extends RecordList<OpenPurchase> {
  static readonly layout = PURCHASE;
  static readonly #empty = new PurchaseList([0], 0);

  /** A list of the purchases xs (none by default). */
  static of(xs: readonly OpenPurchase[] = []): PurchaseList {
    return PurchaseList.#empty.over(xs);
  }

  /** A new purchase (nothing earned, refunded or reversed yet) at the end, without the record. */
  appendNew(id: string, at: number, amount: number, sequence: number): PurchaseList {
    const s = this.slotFor();
    const b = 1 + this.length * 10;
    s[b] = idHash(id);
    s[b + 1] = id;
    s[b + 2] = at;
    s[b + 3] = amount;
    s[b + 4] = 0;
    s[b + 5] = 0;
    s[b + 6] = 0;
    s[b + 7] = '';
    s[b + 8] = sequence;
    s[b + 9] = EMPTY;
    return new PurchaseList(s, this.length + 1);
  }

  /** The index of the last purchase whose id is `id`, -1 if none. */
  indexOfId(id: string): number {
    const s = this.storage();
    const h = idHash(id);
    for (let i = this.length - 1, at = 1 + i * 10; i >= 0; i--, at -= 10) if (s[at] === h && s[at + 1] === id) return i;
    return -1;
  }

  /**
   * Sum of earned − reversed over the purchases whose `at` lies in (from, to]: their
   * qualifying points.
   */
  qualifying(from: number, to: number): number {
    const s = this.storage();
    let q = 0;
    for (let i = 0, at = 1; i < this.length; i++, at += 10) {
      const t = s[at + 2] as number;
      if (t > from && t <= to) q += (s[at + 5] as number) - (s[at + 6] as number);
    }
    return q;
  }

  /**
   * The purchases whose `at` is `oldest` or later, in order: this list when that is all of
   * them, else a copy of their slots with room to append (compact drops old purchases, and
   * the member's next purchase then appends without copying the list again).
   */
  atOrAfter(oldest: number): PurchaseList {
    const s = this.storage();
    let kept = 0;
    for (let i = 0, at = 1; i < this.length; i++, at += 10) if ((s[at + 2] as number) >= oldest) kept++;
    if (kept === this.length) return this;
    const out: Storage = new Array(1 + (kept + (kept >> 1) + 4) * 10);
    out[0] = kept;
    let j = 1;
    for (let i = 0, at = 1; i < this.length; i++, at += 10) {
      if ((s[at + 2] as number) < oldest) continue;
      for (let k = 0; k < 10; k++) out[j + k] = s[at + k];
      j += 10;
    }
    return new PurchaseList(out, kept);
  }

  /** See withField: the purchase at i earned `points` more, under programme `version`. */
  withEarned(i: number, points: number, version: string, inPlace: boolean): PurchaseList {
    // withField twice, by hand: every purchase takes this path (its PointsEarned)
    const s = inPlace ? this.storage() : this.copy(this.length + 1);
    const b = 1 + i * 10;
    s[b + 5] = (s[b + 5] as number) + points;
    s[b + 7] = version;
    return inPlace ? this : new PurchaseList(s, this.length);
  }

  /** See withField: the purchase at i refunded by `amount` (refund `refundId`). */
  withRefund(i: number, amount: number, refundId: string, inPlace: boolean): PurchaseList {
    const ids = this.field(i, 'refundIds');
    const out = this.withField(i, 'refunded', this.field(i, 'refunded') + amount, inPlace);
    return out.withField(i, 'refundIds', [...ids, refundId], true);
  }

  /** See withField: `points` more of the purchase at i reversed. */
  withReversed(i: number, points: number, inPlace: boolean): PurchaseList {
    return this.withField(i, 'reversed', this.field(i, 'reversed') + points, inPlace);
  }
}

// ---- Id hashes --------------------------------------------------------------------

let lastId = '';
let lastHash = idHashOf('');

/** A 30-bit hash of an id (a small integer, stored unboxed). */
export function idHash(id: string): number {
  if (id === lastId) return lastHash; // the id just decided is hashed again by evolve
  lastHash = idHashOf(id);
  lastId = id;
  return lastHash;
}

function idHashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}
