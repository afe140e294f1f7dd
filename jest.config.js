/**
 * Unit and integration tests under spec/, run twice (issue #18): `embedded` on the default
 * deployment (SQLite, filesystem blobs) and `postgres-redis-s3` on the scale-out one; the
 * backend a spec registry gets is decided in spec/support/test-backend.ts from BERTH_SPEC_BACKEND.
 * spec/backend-matrix.json lists the files the servers project leaves out, each with its reason.
 * Conformance has its own config (conformance/e2e).
 */
const embeddedOnly = Object.keys(require('./spec/backend-matrix.json').embeddedOnly);

const escape = (file) => file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const project = (backend, ignored) => ({
  displayName: backend,
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...ignored.map((file) => `^<rootDir>/${escape(file)}$`)],
  transform: { '^.+\\.ts$': 'ts-jest' },
  globals: { BERTH_SPEC_BACKEND: backend },
});

module.exports = {
  projects: [project('embedded', []), project('postgres-redis-s3', embeddedOnly)],
  testTimeout: 30000,
  // Redis, an S3 server and PostgreSQL for both projects (used as given by REDIS_URL / S3_ENDPOINT /
  // DATABASE_URL, else started once for the whole run).
  globalSetup: '<rootDir>/spec/support/global-setup.ts',
  globalTeardown: '<rootDir>/spec/support/global-teardown.ts',
};
