export * from './config';
export * from './logger';
export { ConfigError, redact } from './env-schema';
export * from './connections';
export * from './shutdown';
export * from './programme-file';
export * from './metrics-server';
export * from './node-flags';
export * from './args';
