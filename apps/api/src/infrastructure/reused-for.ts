/**
 * `load`, called at most once per `maxAgeMs` (or the age a caller passes): the callers of
 * that time share its answer, a promise, so concurrent requests make one read. A failure is
 * not kept: the next caller reads again.
 */
export function reusedFor<T>(maxAgeMs: number, load: () => Promise<T>): (ageMs?: number) => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return (ageMs = maxAgeMs) => {
    if (last && Date.now() - last.at < ageMs) return last.value;
    const entry = { at: Date.now(), value: load() };
    last = entry;
    entry.value.catch(() => {
      if (last === entry) last = undefined;
    });
    return entry.value;
  };
}
