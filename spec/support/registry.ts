import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { DEFAULT_CONFIG, type Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { createRegistry, type Registry } from '../../src/composition-root';

export interface TestRegistry {
  registry: Registry;
  /** A supertest agent bound to the registry's Express app. */
  http: ReturnType<typeof request>;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * A test configuration on a data directory of its own. The registry API
 * tests run in open mode; authentication has its own tests (spec/auth).
 */
export function testConfig(dataDir: string, overrides: Partial<Config> = {}): Config {
  const base = structuredClone(DEFAULT_CONFIG);
  return { ...base, logLevel: 'silent', dataDir, auth: { ...base.auth, mode: 'none' }, ...overrides };
}

/** A registry on a fresh temporary data directory; `close` shuts it down and removes the directory. */
export async function startTestRegistry(overrides: Partial<Config> = {}): Promise<TestRegistry> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-spec-'));
  const registry = await createRegistry(testConfig(dataDir, overrides), createLogger('silent'));
  return {
    registry,
    http: request(registry.app),
    dataDir,
    async close() {
      await registry.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
