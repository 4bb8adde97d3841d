// An immutable list of records with ids that appends in O(1) (amortised) by sharing its
// storage with the list it was appended to. A list is a view of the first `length` items
// of a storage array; those items are never written again. The storage counts the items
// appended to it so far (slot 0): when that count is this list's length, nothing was
// appended beyond this list yet, and `append` writes the new item in place (the list it
// came from still sees its own items, and only those); otherwise, or when the storage is
// full, it copies. A member state therefore gains a lot and a purchase without a copy of
// its lists, which would cost O(lots) per purchase and most of the garbage a purchase
// leaves behind.
//
// The storage also keeps a hash of each item's id next to the item (slots 1 + 2i and
// 2 + 2i), so `indexOfId` compares small integers and reads an item's id only when the
// hash matches: the ids of a member's purchases lie elsewhere in memory, one cache miss
// each when compared directly.
//
// Equality: jest's toEqual compares two lists by their items (the list is iterable and
// its storage is private), and JSON.stringify writes the items as an array.

type Storage = unknown[];

export class AppendList<T extends { readonly id: string }> implements Iterable<T> {
  /** [count, hash0, item0, hash1, item1, …]: items [0, length) are this list's and never change. */
  readonly #s: Storage;
  readonly length: number;

  private constructor(s: Storage, length: number) {
    this.#s = s;
    this.length = length;
  }

  static readonly #empty: AppendList<never> = new AppendList<never>([0], 0);

  /** The empty list (shared: `append` never writes its storage, which has no room). */
  static empty<T extends { readonly id: string }>(): AppendList<T> {
    return AppendList.#empty;
  }

  /** A list of the items of xs. */
  static of<T extends { readonly id: string }>(xs: readonly T[]): AppendList<T> {
    const n = xs.length;
    if (n === 0) return AppendList.#empty;
    const s = storage(n, n);
    for (let i = 0; i < n; i++) {
      s[1 + 2 * i] = idHash(xs[i].id);
      s[2 + 2 * i] = xs[i];
    }
    return new AppendList(s, n);
  }

  /** The item at i, undefined outside [0, length). */
  get(i: number): T | undefined {
    return i >= 0 && i < this.length ? (this.#s[2 + 2 * i] as T) : undefined;
  }

  /** The index of the last item whose id is `id`, -1 if none. */
  indexOfId(id: string): number {
    const s = this.#s;
    const h = idHash(id);
    for (let i = this.length - 1; i >= 0; i--) if (s[1 + 2 * i] === h && (s[2 + 2 * i] as T).id === id) return i;
    return -1;
  }

  /** This list with x at its end; this list is unchanged. */
  append(x: T): AppendList<T> {
    const s = this.#s;
    const n = this.length;
    if (s[0] === n && 3 + 2 * n <= s.length) {
      s[1 + 2 * n] = idHash(x.id);
      s[2 + 2 * n] = x;
      s[0] = n + 1;
      return new AppendList(s, n + 1);
    }
    // Something was appended to the storage beyond this list, or it is full: a copy, with
    // room for half as many again and a few (a list that grows keeps growing).
    const out = this.#copy(n + 1 + (n >> 1) + 8);
    out[1 + 2 * n] = idHash(x.id);
    out[2 + 2 * n] = x;
    out[0] = n + 1;
    return new AppendList(out, n + 1);
  }

  /** This list with x in place of the item at i (0 <= i < length): a copy; this list is unchanged. */
  with(i: number, x: T): AppendList<T> {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`index ${i} is outside a list of ${this.length}`);
    // Room for one more: a purchase's record is replaced by its PointsEarned when events
    // are applied one by one, and the next purchase is appended.
    const out = this.#copy(this.length + 1);
    out[1 + 2 * i] = idHash(x.id);
    out[2 + 2 * i] = x;
    return new AppendList(out, this.length);
  }

  /** A new storage of this list's items, with room for `capacity` items. */
  #copy(capacity: number): Storage {
    const s = this.#s;
    const n = this.length;
    const out = storage(n, capacity);
    for (let j = 1; j <= 2 * n; j++) out[j] = s[j];
    return out;
  }

  /** A new array of the items (the caller owns it). */
  toArray(): T[] {
    const s = this.#s;
    const out = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = s[2 + 2 * i] as T;
    return out;
  }

  toJSON(): T[] {
    return this.toArray();
  }

  some(f: (x: T) => boolean): boolean {
    for (let i = 0; i < this.length; i++) if (f(this.#s[2 + 2 * i] as T)) return true;
    return false;
  }

  /** The items that pass f; this list itself when all do. */
  filter(f: (x: T) => boolean): AppendList<T> {
    const s = this.#s;
    let kept = 0;
    for (let i = 0; i < this.length; i++) if (f(s[2 + 2 * i] as T)) kept++;
    if (kept === this.length) return this;
    if (kept === 0) return AppendList.#empty;
    const out = storage(kept, kept);
    let k = 0;
    for (let i = 0; i < this.length; i++) {
      const x = s[2 + 2 * i] as T;
      if (!f(x)) continue;
      out[1 + 2 * k] = s[1 + 2 * i];
      out[2 + 2 * k] = x;
      k++;
    }
    return new AppendList(out, kept);
  }

  map<U>(f: (x: T) => U): U[] {
    const out = new Array<U>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = f(this.#s[2 + 2 * i] as T);
    return out;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.#s[2 + 2 * i] as T;
  }
}

/** A storage holding `count` items (slots to be filled by the caller), with room for `capacity`. */
function storage(count: number, capacity: number): Storage {
  const s: Storage = new Array(1 + 2 * capacity);
  s[0] = count;
  return s;
}

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
