import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { DEFAULT_CONFIG, type Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { createRegistry, type Registry, type RegistryOptions } from '../../src/composition-root';
import { provisionBackend } from './test-backend';

export interface TestRegistry {
  registry: Registry;
  /** A supertest agent bound to the registry's Express app. */
  http: ReturnType<typeof request>;
  dataDir: string;
  config: Config;
  close(): Promise<void>;
}

/**
 * The embedded default's configuration on `dataDir`, nothing else: for a spec
 * about the embedded backend itself. The registry API tests run in open mode;
 * authentication has its own tests (spec/auth).
 */
export function testConfig(dataDir: string, overrides: Partial<Config> = {}): Config {
  const base = structuredClone(DEFAULT_CONFIG);
  return { ...base, logLevel: 'silent', dataDir, auth: { ...base.auth, mode: 'none' }, ...overrides };
}

export interface TestSetup {
  config: Config;
  dataDir: string;
  /** The variables that give a `berth` process (the CLI, a server) this data directory and backend place. */
  env: Record<string, string>;
  /** Removes the data directory and the registry's place on the backend. */
  dispose(): Promise<void>;
}

/**
 * A configuration on a fresh temporary data directory and a fresh place on
 * the jest project's backend (spec/support/test-backend.ts); `overrides` win.
 */
export async function prepareTestConfig(overrides: Partial<Config> = {}, dirPrefix = 'berth-spec-'): Promise<TestSetup> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  try {
    const backend = await provisionBackend();
    const env: Record<string, string> = { BERTH_DATA: dataDir };
    if (Object.keys(backend.settings).length > 0) {
      // A file rather than variables: the Redis and S3 key prefixes have no variable.
      env.BERTH_CONFIG = path.join(dataDir, 'backend-config.json');
      writeFileSync(env.BERTH_CONFIG, JSON.stringify(backend.settings));
    }
    return {
      config: testConfig(dataDir, { ...backend.settings, ...overrides }),
      dataDir,
      env,
      async dispose() {
        try {
          await backend.dispose();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** A registry on a fresh place (prepareTestConfig); `close` shuts it down and removes its data. */
export async function startTestRegistry(overrides: Partial<Config> = {}, options: RegistryOptions = {}): Promise<TestRegistry> {
  const setup = await prepareTestConfig(overrides);
  let registry: Registry;
  try {
    registry = await createRegistry(setup.config, createLogger('silent'), options);
  } catch (err) {
    await setup.dispose();
    throw err;
  }
  return {
    registry,
    http: request(registry.app),
    dataDir: setup.dataDir,
    config: setup.config,
    async close() {
      try {
        await registry.close();
      } finally {
        await setup.dispose();
      }
    },
  };
}
