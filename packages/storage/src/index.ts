export * from './storage';
export * from './local-storage';
export * from './content-type';
export * from './lines';
export * from './s3-storage';
export * from './s3-presign';
export * from './storage-factory';
export * from './serving';
