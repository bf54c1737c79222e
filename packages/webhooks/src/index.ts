export * from './signing';
export * from './schedule';
export * from './ssrf-guard';
export * from './deliver';
export * from './payload';
