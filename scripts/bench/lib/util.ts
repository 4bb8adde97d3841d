// Small helpers shared by the bench phases: flags, timing, percentiles, process memory.
import * as fs from 'node:fs';
import * as net from 'node:net';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();

/** A TCP port free on 127.0.0.1 at the moment of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}


export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
export function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/** Resident set size of a process, bytes (Linux /proc). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}
/** CPU seconds (user+sys) a process used so far (Linux /proc). */
export function cpuSecondsOf(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(parts[11]) + Number(parts[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export const fmt = (n: number | undefined | null, digits = 0): string =>
  n === undefined || n === null || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Processes whose /proc/<pid>/<file> (comm or cmdline) passes `test`. */
function pidsWhere(file: 'comm' | 'cmdline', test: (text: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (test(fs.readFileSync(`/proc/${d}/${file}`, 'utf8'))) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The Redis servers on this machine (shared with whatever else uses them). */
export const redisServerPids = (): number[] => pidsWhere('comm', (comm) => comm.trim() === 'redis-server');

/** The Postgres server's processes (the postmaster and every backend). */
export const postgresPids = (): number[] => pidsWhere('comm', (comm) => comm.trim() === 'postgres');

/** CPU seconds of several processes together. */
export const cpuSecondsOfAll = (pids: number[]) => pids.reduce((n, pid) => n + cpuSecondsOf(pid), 0);

/** Kafka broker processes on this machine (every `kafka.Kafka` JVM, or those BENCH_BROKER_MATCH names). */
export function brokerPids(): number[] {
  // On a machine with several brokers (others' tests), BENCH_BROKER_MATCH picks the one the
  // bench uses by a part of its command line (e.g. its data directory).
  const only = process.env.BENCH_BROKER_MATCH;
  return pidsWhere('cmdline', (cmdline) => cmdline.includes('kafka.Kafka') && (!only || cmdline.includes(only)));
}

/** Busy share of all CPUs (0..1) between two readings of /proc/stat. */
function cpuTimes(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8');
  const v = f.slice(0, f.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0); // idle + iowait
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Waits until the machine is quiet (under `maxBusy` of all CPUs for 2 s in a row) or
 * `timeoutS` passed, so that a phase does not pay for the one before it (a database's
 * checkpoint and autovacuum after the projector stages, a broker deleting topics). Returns
 * the seconds waited and the last busy share, for the log.
 */
export async function waitQuiet(maxBusy = 0.15, timeoutS = 60): Promise<{ waitedS: number; busy: number }> {
  const t0 = Date.now();
  let quietFor = 0;
  let busy = 1;
  let a = cpuTimes();
  while (Date.now() - t0 < timeoutS * 1000) {
    await sleep(1000);
    const b = cpuTimes();
    busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
    a = b;
    quietFor = busy < maxBusy ? quietFor + 1 : 0;
    if (quietFor >= 2) break;
  }
  return { waitedS: Math.round((Date.now() - t0) / 1000), busy: Math.round(busy * 100) / 100 };
}
