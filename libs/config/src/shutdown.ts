import type { Logger } from './logger';

/**
 * Runs the given stop steps once on SIGTERM/SIGINT, in order, then exits.
 * A second signal, or a stop that takes too long, exits at once.
 */
export function onShutdown(logger: Logger, steps: Array<() => Promise<void>>, timeoutMs = 20000): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn('second signal, exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('stopping', { signal });
    const timer = setTimeout(() => {
      logger.error('stop took too long, exiting', { timeoutMs });
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        logger.warn('stop step failed', { error: (err as Error).message });
      }
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
