/**
 * One Jest run over every workspace, in two tiers:
 * - unit: pure and in-process (schemas, policies, parsers, the gateway client against in-process
 *   servers, the simulator in-process, the repository's own checks). No Postgres, no Redis: their
 *   URLs point at a closed port, so a unit test that reaches for them fails instead of passing by luck.
 * - integration: real processes, Postgres and Redis; the global setup makes the run's database.
 * `npm test` runs both, `npm run test:unit` / `npm run test:integration` one of them.
 */
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.base.json' }];

/** Folders whose tests are unit tests, and single unit test files in integration folders. */
const UNIT = [
  '<rootDir>/packages/core/test/',
  '<rootDir>/packages/config/test/',
  '<rootDir>/packages/webhooks/test/',
  '<rootDir>/packages/upstream/test/',
  '<rootDir>/apps/simulator/test/',
  '<rootDir>/scripts/test/',
  '<rootDir>/packages/queue/test/cluster-keys.test.ts',
  '<rootDir>/packages/storage/test/artifact-links.test.ts',
  '<rootDir>/apps/api/test/artifact-urls.test.ts',
  '<rootDir>/apps/worker/test/chunk-planner.test.ts',
];
const escape = (path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.tsx?$': tsJest },
  roots: ['<rootDir>/apps', '<rootDir>/packages', '<rootDir>/scripts'],
  testMatch: ['**/test/**/*.test.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  // a global option: a project's own testTimeout is not read
  testTimeout: 30000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      testMatch: UNIT.map((path) => (path.endsWith('/') ? `${path}**/*.test.ts` : path)),
      setupFiles: ['<rootDir>/packages/testing/src/jest-unit-setup.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testPathIgnorePatterns: ['/node_modules/', '/dist/', ...UNIT.map((path) => escape(path))],
      globalSetup: '<rootDir>/packages/testing/src/jest-global-setup.ts',
      globalTeardown: '<rootDir>/packages/testing/src/jest-global-teardown.ts',
    },
  ],
};
