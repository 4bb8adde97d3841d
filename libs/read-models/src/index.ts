// Read models of the loyalty ledger: projection definitions (event -> rows / keys)
// shared by the live projectors and by replay, and the query functions over them.
export * from './projection/events';
export * from './postgres/sql';
export * from './postgres/migrate';
export * from './postgres/analytics';
export * from './postgres/postgres.projection';
export * from './postgres/queries';
export * from './redis/redis.projection';
export * from './redis/queries';
export * from './offsets/store-offsets';
export * from './replay';
export * from './offsets/pipeline-lag';
