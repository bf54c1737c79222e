export * from './signing';
export * from './schedule';
export * from './ssrf-guard';
export * from './deliver';
export * from './payload';
export * from './fan-out';
