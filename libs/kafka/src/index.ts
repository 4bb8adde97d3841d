export * from './client';
export * from './codec';
export * from './partition-reader';
export * from './topics';
export * from './transactional-processor';
export * from './lag';
export * from './commands-wire';
export * from './liveness';
