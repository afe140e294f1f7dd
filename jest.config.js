/** Unit and integration tests under spec/. Conformance has its own config (conformance/e2e). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
  // Redis and an S3 server for the scale-out drivers (used as given by REDIS_URL / S3_ENDPOINT, else started).
  globalSetup: '<rootDir>/spec/support/global-setup.ts',
  globalTeardown: '<rootDir>/spec/support/global-teardown.ts',
};
