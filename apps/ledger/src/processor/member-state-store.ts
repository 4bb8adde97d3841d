import { deserializeState, initialState, serializeState, type MemberState } from '@loyalty/domain';

/** Parsed states kept for the most recently decided members (active members come back soon). */
const PARSED_CACHE = 20_000;

/**
 * The member states of the partitions this process owns. States are held serialised
 * (a compact string each): a million members then cost the strings and the map, not a
 * million object graphs. The most recently used ones are also kept parsed, so an active
 * member is not parsed again for every batch.
 */
export class MemberStateStore {
  private readonly partitions = new Map<number, Map<string, string>>();
  /** By memberId alone: a member lives in exactly one partition. Oldest first (LRU). */
  private readonly parsed = new Map<string, MemberState>();

  isLoaded(partition: number): boolean {
    return this.partitions.has(partition);
  }

  startLoading(partition: number): Map<string, string> {
    this.dropParsed(partition);
    const states = new Map<string, string>();
    this.partitions.set(partition, states);
    return states;
  }

  drop(partition: number): void {
    this.dropParsed(partition);
    this.partitions.delete(partition);
  }

  get(partition: number, memberId: string): MemberState {
    const cached = this.parsed.get(memberId);
    if (cached) {
      this.parsed.delete(memberId);
      this.parsed.set(memberId, cached);
      return cached;
    }
    const raw = this.partitions.get(partition)?.get(memberId);
    return raw === undefined ? initialState(memberId) : deserializeState(raw);
  }

  /** Moves committed states in; called only after their transaction committed. */
  commit(partition: number, states: Iterable<{ memberId: string; state: MemberState; serialized: string }>): void {
    const map = this.partitions.get(partition);
    if (!map) return; // released meanwhile: the next owner restores from the changelog
    for (const { memberId, state, serialized } of states) {
      map.set(memberId, serialized);
      this.parsed.delete(memberId);
      this.parsed.set(memberId, state);
    }
    let excess = this.parsed.size - PARSED_CACHE;
    if (excess > 0) {
      for (const memberId of this.parsed.keys()) {
        this.parsed.delete(memberId);
        if (--excess === 0) break;
      }
    }
  }

  serialize(state: MemberState): string {
    return serializeState(state);
  }

  members(): number {
    let n = 0;
    for (const m of this.partitions.values()) n += m.size;
    return n;
  }

  private dropParsed(partition: number): void {
    const held = this.partitions.get(partition);
    if (held) for (const memberId of held.keys()) this.parsed.delete(memberId);
  }
}
