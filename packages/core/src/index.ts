export * from './ids';
export * from './job-status';
export * from './errors';
export * from './media-source';
export * from './job-types';
export * from './job-request';
export * from './public-job';
export * from './job-search-text';
