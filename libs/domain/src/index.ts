// @loyalty/domain: the pure domain of the loyalty ledger (no Nest, no Kafka, no I/O).
export * from './events';
export * from './commands';
export * from './programme';
export * from './append-list';
export * from './state';
export * from './decide';
export * from './envelope';
export * from './ids';
export * from './time';
export * from './serialize';
export * from './limits';
export * from './validate';
export * from './dto';
export * from './testing';
