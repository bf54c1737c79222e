export * from './catalog';
export * from './redis';
export * from './job-queues';
export * from './event-bus';
