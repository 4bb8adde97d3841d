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
