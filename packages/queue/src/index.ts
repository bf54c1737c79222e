export * from './catalog';
export * from './redis';
export * from './job-queues';
export * from './event-bus';
export * from './embedding-chunk-queue';
export * from './webhook-delivery-queue';
export * from './project-waiting-room';
export * from './lane-activity';
