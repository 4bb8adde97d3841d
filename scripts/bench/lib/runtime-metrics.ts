// A Node app's own view of its runtime, from prom-client's default metrics on its /metrics:
// GC pauses by kind (cumulative) and the event-loop delay (since the last scrape).

export interface RuntimeReading {
  gc: Record<string, { n: number; s: number; le: Array<[number, number]> }>;
  lagP99: number;
  lagMax: number;
}

/** An app's /metrics, as text. */
export async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** `prefix`: the apps' metric prefix ('loyalty_api_' for the API, '' for the pipeline). */
export async function readRuntime(url: string, prefix: string): Promise<RuntimeReading> {
  return runtimeOf(await scrape(url), prefix);
}

/** The runtime part of a scrape. */
export function runtimeOf(text: string, prefix: string): RuntimeReading {
  const gc: RuntimeReading['gc'] = {};
  let lagP99 = NaN;
  let lagMax = NaN;
  const name = `${prefix}nodejs_gc_duration_seconds_`;
  for (const line of text.split('\n')) {
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(name)) {
      const part = line.slice(name.length, line.indexOf('{'));
      const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      const kind = labels.kind;
      if (!kind) continue;
      gc[kind] ??= { n: 0, s: 0, le: [] };
      if (part === 'sum') gc[kind].s = v;
      else if (part === 'count') gc[kind].n = v;
      else if (part === 'bucket') gc[kind].le.push([labels.le === '+Inf' ? Infinity : Number(labels.le), v]);
    } else if (line.startsWith(`${prefix}nodejs_eventloop_lag_p99_seconds `)) lagP99 = v;
    else if (line.startsWith(`${prefix}nodejs_eventloop_lag_max_seconds `)) lagMax = v;
  }
  return { gc, lagP99, lagMax };
}

/** GC pauses between two readings, by kind: count, total ms, and the bucket bound of the longest; then the event-loop delay. */
export function runtimeSummary(before: RuntimeReading, after: RuntimeReading): string {
  const kinds = Object.keys(after.gc)
    .map((k) => {
      const b = before.gc[k];
      const n = after.gc[k].n - (b?.n ?? 0);
      const ms = (after.gc[k].s - (b?.s ?? 0)) * 1000;
      // The smallest bucket bound that holds every pause of the interval.
      const longest = after.gc[k].le.find(([le, c]) => c - (b?.le.find(([l]) => l === le)?.[1] ?? 0) >= n)?.[0];
      return { k, n, ms, longest };
    })
    .filter((x) => x.n > 0)
    .map((x) => `${x.k} ${x.n}× ${x.ms.toFixed(0)} ms (${(x.ms / x.n).toFixed(2)} each, longest <= ${x.longest === undefined ? '?' : x.longest * 1000} ms)`);
  const lag = Number.isNaN(after.lagP99) ? '' : `; event loop delay p99 ${(after.lagP99 * 1000).toFixed(1)} / max ${(after.lagMax * 1000).toFixed(1)} ms`;
  return `GC ${kinds.join(', ') || 'none'}${lag}`;
}
