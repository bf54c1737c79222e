export * from './settings';
export * from './load';
export * from './logger';
export * from './retry';
export * from './shutdown';
