export * from './storage';
export * from './local-storage';
export * from './content-type';
export * from './lines';
