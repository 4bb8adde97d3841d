import { ConfigError, loadConfig } from './index';

describe('loadConfig', () => {
  it('given no variables, when loaded, then the contract defaults apply', () => {
    const c = loadConfig({});
    expect(c.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(c.postgres.connectionString).toBe('postgres://postgres@127.0.0.1:5432/loyalty');
    expect(c.redis.url).toBe('redis://127.0.0.1:6379/0');
    expect(c.http.port).toBe(3000);
    expect(c.topics).toEqual({ prefix: 'loyalty.', partitions: 12, replicationFactor: 1 });
    expect(c.kafka.ssl).toBe(false);
    expect(c.kafka.sasl).toBeUndefined();
    expect(c.ledger.ingestFetchWaitMs).toBe(250);
    // Per key, above one backend's reads at the project's targets (2,000/s per route).
    expect(c.http.rateLimit).toEqual({ perSecond: 10_000, burst: 20_000 });
  });

  it('given bad values, when loaded, then every bad variable is named at once', () => {
    const attempt = () => loadConfig({ PORT: 'abc', TOPIC_PARTITIONS: '0', KAFKA_BROKERS: 'nohostport', DATABASE_URL: 'mysql://x', INGEST_FETCH_WAIT_MS: '5000' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/PORT must be an integer/);
      expect(problems).toMatch(/TOPIC_PARTITIONS must be an integer from 1/);
      expect(problems).toMatch(/KAFKA_BROKERS has an invalid entry 'nohostport'/);
      expect(problems).toMatch(/DATABASE_URL must use postgres:/);
      expect(problems).toMatch(/INGEST_FETCH_WAIT_MS must be an integer from 0 to 1000/);
    }
  });

  it('given SCRAM without a password, when loaded, then the missing variable is named', () => {
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' })).toThrow(/KAFKA_SASL_PASSWORD is required/);
  });

  it('given SCRAM and TLS, when loaded, then kafkajs receives both', () => {
    const c = loadConfig({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
    expect(c.kafka.ssl).toBe(true);
    expect(c.kafka.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'u', password: 'p' });
  });

  it('given a database password in a bad URL, when refused, then the password is not printed', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:secret@' })).toThrow();
    try {
      loadConfig({ DATABASE_URL: 'postgres://u:secret@' });
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
    }
  });
});
