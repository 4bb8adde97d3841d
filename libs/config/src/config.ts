import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { bool, ConfigError, int, list, optionalStr, readEnv, str, url } from './env-schema';

const schema = {
  NODE_ENV: str({ default: 'development' }),
  LOG_LEVEL: str({ default: 'info', oneOf: ['debug', 'info', 'warn', 'error'] }),
  LOG_FORMAT: str({ default: 'json', oneOf: ['json', 'text'] }),

  KAFKA_BROKERS: list({ default: '127.0.0.1:9092', itemPattern: /^[^\s:]+:\d{1,5}$/ }),
  KAFKA_CLIENT_ID: str({ default: 'loyalty' }),
  KAFKA_SSL: bool({ default: false }),
  KAFKA_SSL_CA_FILE: optionalStr(),
  KAFKA_SASL_MECHANISM: str({ default: 'none', oneOf: ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] }),
  KAFKA_SASL_USERNAME: optionalStr(),
  KAFKA_SASL_PASSWORD: optionalStr(),
  TOPIC_PREFIX: str({ default: 'loyalty.', pattern: /^[A-Za-z0-9._-]*$/ }),
  TOPIC_PARTITIONS: int({ default: 12, min: 1, max: 1000 }),
  TOPIC_REPLICATION_FACTOR: int({ default: 1, min: 1, max: 10 }),

  DATABASE_URL: url({ default: 'postgres://postgres@127.0.0.1:5432/loyalty', protocols: ['postgres:', 'postgresql:'] }),
  DATABASE_SSL: str({ default: 'disable', oneOf: ['disable', 'require', 'verify-full'] }),
  DATABASE_SSL_CA_FILE: optionalStr(),
  DATABASE_POOL_MAX: int({ default: 10, min: 1, max: 200 }),
  DATABASE_SCHEMA: str({ default: 'loyalty', pattern: /^[a-z_][a-z0-9_]*$/ }),

  REDIS_URL: url({ default: 'redis://127.0.0.1:6379/0', protocols: ['redis:', 'rediss:'] }),
  REDIS_KEY_PREFIX: str({ default: 'loyalty:', pattern: /^[A-Za-z0-9:._-]*$/ }),
  REDIS_TLS_CA_FILE: optionalStr(),

  HOST: str({ default: '127.0.0.1' }),
  PORT: int({ default: 3000, min: 0, max: 65535 }),
  PROGRAM_FILE: optionalStr(),
  LOYALTY_BOOTSTRAP_API_KEY: optionalStr(),
  COMMAND_TIMEOUT_MS: int({ default: 5000, min: 100, max: 120000 }),
  // Per API key; 0 turns rate limiting off. A guard against a runaway client, set above what one
  // member-facing backend (one key) asks of an API at the read targets (2,000/s per route).
  RATE_LIMIT_PER_SECOND: int({ default: 10_000, min: 0, max: 1_000_000 }),
  RATE_LIMIT_BURST: int({ default: 20_000, min: 1, max: 1_000_000 }),

  METRICS_PORT: int({ default: 0, min: 0, max: 65535 }), // ledger and projector: /metrics and /health; 0 = off
  LEDGER_PARTITIONS_CONCURRENTLY: int({ default: 6, min: 1, max: 64 }),
  INGEST_FETCH_WAIT_MS: int({ default: 250, min: 0, max: 1000 }), // how long the ingest lets input gather before a transaction; 0 = none
  LEDGER_ROLES: str({ default: 'ingest,ledger', pattern: /^(ingest|ledger)(,(ingest|ledger))?$/ }), // run the ingest and the ledger in separate processes to use two cores
  PROJECTOR_PARTITIONS_CONCURRENTLY: int({ default: 4, min: 1, max: 64 }),
  SCHEDULER_INTERVAL_MS: int({ default: 60000, min: 0, max: 86_400_000 }), // 0 turns the expiry/review scheduler off
  PIPELINE_NICE: int({ default: 10, min: 0, max: 19 }), // CPU priority (Unix nice) of the ledger and the projector: below the API's on a shared host; 0 = the same
  PROJECTOR_STORES: str({ default: 'postgres,redis', pattern: /^(postgres|redis)(,(postgres|redis))?$/ }),
} as const;

type Env = Record<string, string | undefined>;

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  ssl: boolean | ConnectionOptions;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export interface AppConfig {
  env: string;
  log: { level: 'debug' | 'info' | 'warn' | 'error'; format: 'json' | 'text' };
  kafka: KafkaSettings;
  topics: { prefix: string; partitions: number; replicationFactor: number };
  postgres: { connectionString: string; ssl: false | ConnectionOptions; poolMax: number; schema: string };
  redis: { url: string; keyPrefix: string; tls?: ConnectionOptions };
  http: { host: string; port: number; bootstrapApiKey?: string; commandTimeoutMs: number; rateLimit: { perSecond: number; burst: number } };
  programFile?: string;
  ledger: { partitionsConsumedConcurrently: number; roles: Array<'ingest' | 'ledger'>; ingestFetchWaitMs: number };
  metrics: { port: number };
  /** Unix nice of the ledger and the projector (see lowerCpuPriority). */
  pipelineNice: number;
  projector: { stores: Array<'postgres' | 'redis'>; schedulerIntervalMs: number; partitionsConsumedConcurrently: number };
}

function readCa(name: string, path: string | undefined, problems: string[]): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch {
    problems.push(`${name} points to a file that cannot be read: ${path}`);
    return undefined;
  }
}

/** Reads and validates the whole configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const e = readEnv(schema, env, problems);

  let sasl: KafkaSettings['sasl'];
  if (e.KAFKA_SASL_MECHANISM !== 'none') {
    if (!e.KAFKA_SASL_USERNAME) problems.push(`KAFKA_SASL_USERNAME is required when KAFKA_SASL_MECHANISM=${e.KAFKA_SASL_MECHANISM}`);
    if (!e.KAFKA_SASL_PASSWORD) problems.push(`KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM=${e.KAFKA_SASL_MECHANISM}`);
    sasl = {
      mechanism: e.KAFKA_SASL_MECHANISM as 'plain' | 'scram-sha-256' | 'scram-sha-512',
      username: e.KAFKA_SASL_USERNAME ?? '',
      password: e.KAFKA_SASL_PASSWORD ?? '',
    };
  }
  const kafkaCa = readCa('KAFKA_SSL_CA_FILE', e.KAFKA_SSL_CA_FILE, problems);
  const pgCa = readCa('DATABASE_SSL_CA_FILE', e.DATABASE_SSL_CA_FILE, problems);
  const redisCa = readCa('REDIS_TLS_CA_FILE', e.REDIS_TLS_CA_FILE, problems);
  const stores = e.PROJECTOR_STORES.split(',') as Array<'postgres' | 'redis'>;

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    log: { level: e.LOG_LEVEL as AppConfig['log']['level'], format: e.LOG_FORMAT as 'json' | 'text' },
    kafka: {
      brokers: e.KAFKA_BROKERS,
      clientId: e.KAFKA_CLIENT_ID,
      ssl: e.KAFKA_SSL ? (kafkaCa ? { ca: [kafkaCa] } : true) : false,
      sasl,
    },
    topics: { prefix: e.TOPIC_PREFIX, partitions: e.TOPIC_PARTITIONS, replicationFactor: e.TOPIC_REPLICATION_FACTOR },
    postgres: {
      connectionString: e.DATABASE_URL,
      ssl:
        e.DATABASE_SSL === 'disable'
          ? false
          : { rejectUnauthorized: e.DATABASE_SSL === 'verify-full', ...(pgCa ? { ca: [pgCa] } : {}) },
      poolMax: e.DATABASE_POOL_MAX,
      schema: e.DATABASE_SCHEMA,
    },
    redis: {
      url: e.REDIS_URL,
      keyPrefix: e.REDIS_KEY_PREFIX,
      tls: e.REDIS_URL.startsWith('rediss:') ? (redisCa ? { ca: [redisCa] } : {}) : undefined,
    },
    http: {
      host: e.HOST,
      port: e.PORT,
      bootstrapApiKey: e.LOYALTY_BOOTSTRAP_API_KEY,
      commandTimeoutMs: e.COMMAND_TIMEOUT_MS,
      rateLimit: { perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST },
    },
    programFile: e.PROGRAM_FILE,
    ledger: { partitionsConsumedConcurrently: e.LEDGER_PARTITIONS_CONCURRENTLY, roles: e.LEDGER_ROLES.split(',') as Array<'ingest' | 'ledger'>, ingestFetchWaitMs: e.INGEST_FETCH_WAIT_MS },
    metrics: { port: e.METRICS_PORT },
    pipelineNice: e.PIPELINE_NICE,
    projector: { stores, schedulerIntervalMs: e.SCHEDULER_INTERVAL_MS, partitionsConsumedConcurrently: e.PROJECTOR_PARTITIONS_CONCURRENTLY },
  };
}

/** For main.ts: load the configuration or stop the process with the message. */
export function loadConfigOrExit(env: Env = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
