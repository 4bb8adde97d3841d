// Replay helpers shared by the ops CLI (and, for the Redis pointer, by the API and projector).
export * from './event-reader';
export * from './redis-pointer';
export * from './postgres-swap';
