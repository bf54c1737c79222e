export * from './types';
export * from './projects.repository';
export * from './api-keys.repository';
export * from './jobs.repository';
export * from './job-queries';
export * from './artifacts.repository';
export * from './files.repository';
export * from './system-settings.repository';
