// End-to-end checks for Berth against a live server process.
// Run from the repository root:  npx jest -c conformance/e2e/jest.config.js
//
// Environment:
//   BERTH_E2E_URL=http://127.0.0.1:5000   use an already-running server for the tests that do not
//                                         need to kill or restart it (the others still spawn dist/cli.js)
//   BERTH_E2E_SERVER=distribution         spawn CNCF Distribution (`docker-registry`) instead of Berth,
//                                         as a reference implementation for side-by-side runs
//   BERTH_E2E_CLI=/path/to/cli.js         Berth entry point (default: <repo>/dist/cli.js)
//   BERTH_E2E_KEEP=1                      keep temp data/log dirs after the run (paths are printed)
const path = require('node:path');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: path.resolve(__dirname, '..', '..'),
  roots: ['<rootDir>/conformance/e2e'],
  testMatch: ['<rootDir>/conformance/e2e/**/*.e2e.ts'],
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.json') }],
  },
  testTimeout: 90_000,
  maxWorkers: 1,
  // Child processes are stopped in afterAll hooks; this only guards against a hung handle.
  forceExit: false,
  verbose: true,
};
