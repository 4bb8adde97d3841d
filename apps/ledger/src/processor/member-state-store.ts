import { deserializeState, initialState, serializeState, type MemberState } from '@loyalty/domain';

/**
 * The member states of the partitions this process owns. States are held serialised
 * (a compact string each), and parsed only while a command for the member is decided:
 * a million members then cost the strings and the map, not a million object graphs.
 */
export class MemberStateStore {
  private readonly partitions = new Map<number, Map<string, string>>();

  isLoaded(partition: number): boolean {
    return this.partitions.has(partition);
  }

  startLoading(partition: number): Map<string, string> {
    const states = new Map<string, string>();
    this.partitions.set(partition, states);
    return states;
  }

  drop(partition: number): void {
    this.partitions.delete(partition);
  }

  get(partition: number, memberId: string): MemberState {
    const raw = this.partitions.get(partition)?.get(memberId);
    return raw === undefined ? initialState(memberId) : deserializeState(raw);
  }

  /** Moves committed states in; called only after their transaction committed. */
  putSerialized(partition: number, states: Iterable<[string, string]>): void {
    const map = this.partitions.get(partition);
    if (!map) return; // released meanwhile: the next owner restores from the changelog
    for (const [memberId, raw] of states) map.set(memberId, raw);
  }

  serialize(state: MemberState): string {
    return serializeState(state);
  }

  members(): number {
    let n = 0;
    for (const m of this.partitions.values()) n += m.size;
    return n;
  }
}
