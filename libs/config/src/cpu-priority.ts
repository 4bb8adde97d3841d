import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * Lowers this process' CPU priority to `nice` (Unix nice, 0..19), for every thread it has:
 * on Linux a priority belongs to a thread, and V8's and libuv's threads are already running
 * when main() starts (threads started later inherit it). Never raises a priority (that
 * needs privileges), and where a thread cannot be changed it is left as it is.
 *
 * Why: the ledger and the projector work through batches, and a few milliseconds more per
 * batch do not show; the API's answers do. On a host they share, the API runs first.
 * Returns the threads changed, for the start-up log.
 */
export function lowerCpuPriority(nice: number): number {
  if (nice <= 0 || os.getPriority(0) >= nice) return 0;
  let threads: string[];
  try {
    threads = fs.readdirSync('/proc/self/task');
  } catch {
    threads = ['0']; // not Linux: the process (and the threads it starts from now on)
  }
  let changed = 0;
  for (const tid of threads) {
    try {
      if (os.getPriority(Number(tid)) < nice) {
        os.setPriority(Number(tid), nice);
        changed++;
      }
    } catch {
      // a thread that ended meanwhile, or a platform that refuses: keep going
    }
  }
  return changed;
}

/**
 * With autogroup scheduling (CONFIG_SCHED_AUTOGROUP, on by default in many kernels), a nice
 * value ranks a thread only against the threads of its own session: a pipeline started in
 * the API's session yields to the API, but that session as a whole competes on equal terms
 * with the broker's and the databases', and an API that wakes behind a busy session waits
 * out their time slices. A process that leads a session of its own (started with setsid)
 * lowers the session's nice as well, and so yields to every other session. Returns whether
 * it did; nothing happens in a session it shares, or where autogroups do not exist.
 */
export function lowerSessionPriority(nice: number): boolean {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
    if (nice <= 0 || session !== process.pid) return false;
    const current = Number(/nice (-?\d+)/.exec(fs.readFileSync('/proc/self/autogroup', 'utf8'))?.[1] ?? NaN);
    if (!(current < nice)) return false;
    fs.writeFileSync('/proc/self/autogroup', String(nice));
    return true;
  } catch {
    return false; // no autogroups here, or not allowed: the threads' nice still applies
  }
}

/**
 * The ledger's and the projector's one call: every thread to `nice`, and the session too
 * where the process leads one (see lowerSessionPriority). What changed, for the start-up log.
 */
export function lowerPipelinePriority(nice: number): { threads: number; session: boolean } {
  return { threads: lowerCpuPriority(nice), session: lowerSessionPriority(nice) };
}
