import type { Consumer } from 'kafkajs';

/**
 * kafkajs can hang after a broker restart (a request that never answers, an abort that
 * never returns: kafkajs #1355). A consumer that shows no sign of life (no fetch, no batch,
 * no heartbeat, no join) for `stallMs` is reported, so its owner can replace it.
 */
export function watchLiveness(consumer: Consumer, o: { stallMs: number; onStall: (silentMs: number) => void }): () => void {
  let last = Date.now();
  const alive = () => (last = Date.now());
  const { FETCH_START, FETCH, START_BATCH_PROCESS, END_BATCH_PROCESS, HEARTBEAT, GROUP_JOIN } = consumer.events;
  const removers = [FETCH_START, FETCH, START_BATCH_PROCESS, END_BATCH_PROCESS, HEARTBEAT, GROUP_JOIN].map((e) => consumer.on(e, alive));
  let reported = false;
  const timer = setInterval(() => {
    const silent = Date.now() - last;
    if (silent > o.stallMs && !reported) {
      reported = true;
      o.onStall(silent);
    }
  }, Math.min(5000, o.stallMs / 4));
  timer.unref();
  return () => {
    clearInterval(timer);
    removers.forEach((remove) => remove());
  };
}

/** Resolves with the promise's value, or rejects after `ms` (the promise itself is not cancelled). */
export function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
