export * from './test-env';
export * from './free-port';
export * from './http-client';
export * from './child-process';
export * from './stack';
export * from './rejection';
export * from './private-redis';
export * from './private-postgres';
