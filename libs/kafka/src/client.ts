import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { KafkaSettings, Logger } from '@loyalty/config';

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/** kafkajs logs routed to our structured logger; its chatty info lines are kept at debug. */
function logCreator(logger: Logger) {
  return () => (entry: LogEntry) => {
    const { message, ...rest } = entry.log;
    const fields = { component: 'kafkajs', namespace: entry.namespace, error: (rest as { error?: string }).error };
    // Our idempotent producers bound their retries on purpose: a failed send fails the
    // transaction, which is retried whole; kafkajs warns about that at every connect.
    if (message.startsWith('Limiting retries for the idempotent producer')) return logger.debug(message, fields);
    // Connection failures repeat once per internal retry; the callers log one line per attempt.
    if (/ECONNREFUSED|Connection error|Failed to connect to seed broker|Connection timeout/.test(message)) return logger.debug(message, fields);
    if (entry.level === logLevel.ERROR) logger.warn(message, fields);
    else if (entry.level === logLevel.WARN) logger.warn(message, fields);
    else logger.debug(message, fields);
  };
}

/**
 * Heartbeat interval of the pipeline's consumer groups. A member learns that its group is
 * rebalancing only from a heartbeat's answer, and the rebalance waits for every member: at
 * kafkajs's 3 s, a second ledger process joining held both of them for about 3 s (4 s of a
 * 10 s bench run went to start-up and the join), and so does every restart and failover.
 */
export const GROUP_HEARTBEAT_MS = 500;

/**
 * How long the group waits for a silent member before its partitions go to the others: what
 * a crashed (SIGKILLed) process costs its members' commands. 10 s, the consumer's default
 * before Kafka 3.0, instead of 30: the pipeline heartbeats at least after every transaction
 * and during restores, and a member evicted by mistake only rejoins (its work is fenced).
 */
export const GROUP_SESSION_TIMEOUT_MS = 10_000;

export function createKafka(settings: KafkaSettings, logger: Logger, clientIdSuffix = ''): Kafka {
  const config: KafkaConfig = {
    clientId: settings.clientId + (clientIdSuffix ? `-${clientIdSuffix}` : ''),
    brokers: settings.brokers,
    ssl: settings.ssl,
    sasl: settings.sasl as KafkaConfig['sasl'],
    connectionTimeout: 3000,
    requestTimeout: 30000,
    // Short first retry: back-to-back transactions otherwise wait on CONCURRENT_TRANSACTIONS (kafkajs #304).
    retry: { initialRetryTime: 50, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
  };
  return new Kafka(config);
}

/** Retries `attempt` with exponential backoff; one log line per failed attempt. */
export async function withStartupRetry<T>(
  what: string,
  logger: Logger,
  attempt: () => Promise<T>,
  opts: { maxAttempts?: number; initialDelayMs?: number; maxDelayMs?: number } = {},
): Promise<T> {
  const maxAttempts = opts.maxAttempts ?? 30;
  let delay = opts.initialDelayMs ?? 500;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= maxAttempts) throw err;
      logger.warn(`${what} not reachable, retrying`, { attempt: n, retryInMs: delay, error: (err as Error).message });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 10000);
    }
  }
}
