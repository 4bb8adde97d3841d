import { redisHasAllOfPostgres } from './store-offsets';

const offsets = (postgres: Record<number, string>, redis: Record<number, string>) => ({
  postgres: new Map(Object.entries(postgres).map(([p, o]) => [Number(p), o])),
  redis: new Map(Object.entries(redis).map(([p, o]) => [Number(p), o])),
});

describe('redisHasAllOfPostgres', () => {
  it('given Redis at or past Postgres on every partition, then Redis has all of it', () => {
    expect(redisHasAllOfPostgres(offsets({ 0: '10', 1: '5' }, { 0: '10', 1: '7' }))).toBe(true);
  });

  it('given Redis behind on one partition, then it has not', () => {
    expect(redisHasAllOfPostgres(offsets({ 0: '10', 1: '5' }, { 0: '10', 1: '4' }))).toBe(false);
  });

  it('given a partition Postgres applied and Redis never did, then it has not', () => {
    expect(redisHasAllOfPostgres(offsets({ 0: '10', 3: '1' }, { 0: '10' }))).toBe(false);
  });

  it('given offsets past 2^53, then they compare exactly', () => {
    expect(redisHasAllOfPostgres(offsets({ 0: '9007199254740993' }, { 0: '9007199254740992' }))).toBe(false);
  });

  it('given a Postgres that applied nothing yet, then there is nothing Redis could lack', () => {
    expect(redisHasAllOfPostgres(offsets({}, {}))).toBe(true);
  });
});
