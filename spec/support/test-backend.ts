import { AbortMultipartUploadCommand, DeleteObjectsCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { openSessionStore } from '../../src/composition-root';
import type { Config } from '../../src/config';
import { connectDatabase } from '../../src/persistence/connect-database';
import type { Database } from '../../src/persistence/database';
import type { UploadSessionStore } from '../../src/sessions/upload-session-store';
import { requiredEnv, testS3Client, testS3Settings } from './scale-out';

/**
 * Where the spec registries keep their data, decided by the jest project
 * (jest.config.js sets BERTH_SPEC_BACKEND in its `globals`):
 *
 * - `embedded`: the default deployment, everything under the data directory
 *   (the SQLite file, filesystem blobs, upload sessions in SQLite).
 * - `postgres-redis-s3`: the scale-out deployment on the servers the jest
 *   global setup started (spec/support/services.ts): each registry gets a
 *   PostgreSQL schema, a Redis key prefix and an S3 key prefix of its own,
 *   removed again by `dispose`.
 *
 * The helpers that build registries from configuration ask this module;
 * the specs never branch on the backend themselves.
 */
export const SPEC_BACKENDS = ['embedded', 'postgres-redis-s3'] as const;
export type SpecBackend = (typeof SPEC_BACKENDS)[number];

export function specBackend(): SpecBackend {
  const chosen = (globalThis as { BERTH_SPEC_BACKEND?: unknown }).BERTH_SPEC_BACKEND ?? 'embedded';
  const known = SPEC_BACKENDS.find((b) => b === chosen);
  if (!known) throw new Error(`BERTH_SPEC_BACKEND is ${JSON.stringify(chosen)}: expected one of ${SPEC_BACKENDS.join(', ')}`);
  return known;
}

/** The configuration sections that place a registry's stores; none of them is the embedded default. */
export type BackendSettings = Pick<Config, 'database' | 'redis' | 's3'>;

export interface BackendPlace {
  readonly settings: BackendSettings;
  /** Removes what the registry left there (its schema, keys and objects). */
  dispose(): Promise<void>;
}

/** A fresh place for one registry's data on the jest project's backend. */
export async function provisionBackend(): Promise<BackendPlace> {
  if (specBackend() === 'embedded') return { settings: {}, dispose: async () => undefined };
  const name = `spec_${randomBytes(6).toString('hex')}`;
  const databaseUrl = requiredEnv('DATABASE_URL');
  const admin = new Pool({ connectionString: databaseUrl, max: 1 });
  await admin.query(`CREATE SCHEMA ${name}`);
  const settings: BackendSettings = {
    database: { url: scopedUrl(databaseUrl, name) },
    redis: { url: requiredEnv('REDIS_URL'), keyPrefix: `${name}:` },
    s3: testS3Settings(`${name}/`),
  };
  return {
    settings,
    async dispose() {
      try {
        await removeRedisKeys(requiredEnv('REDIS_URL'), `${name}:`);
        await removeS3Prefix(`${name}/`);
        await admin.query(`DROP SCHEMA ${name} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A PostgreSQL URL whose connections work in `schema` (its search_path). */
export function scopedUrl(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/**
 * Another connection to the database a registry of `config` keeps its stores in, as a
 * second process would open it: to build fixtures or inspect rows directly.
 */
export async function openStoreDatabase(config: Config): Promise<Database> {
  return connectDatabase({ url: config.database?.url, sqliteFile: path.join(config.dataDir, 'berth.db') });
}

/** The upload session store a registry of `config` keeps its sessions in (Redis or its database), opened beside it. */
export async function openSessionStoreOf(config: Config): Promise<{ store: UploadSessionStore; close(): Promise<void> }> {
  const db = await openStoreDatabase(config);
  const sessions = await openSessionStore(config, db);
  return {
    store: sessions.store,
    async close() {
      await sessions.close();
      await db.close();
    },
  };
}

async function removeRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** Removes every object and open multipart upload under `prefix` in the test bucket. */
export async function removeS3Prefix(prefix: string): Promise<void> {
  const client = testS3Client();
  const Bucket = requiredEnv('S3_BUCKET');
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }));
      token = page.NextContinuationToken;
    } while (token);
    // Uploads a spec left open (an aborted push) hold parts no listing of objects shows.
    const open = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: prefix }));
    for (const upload of open.Uploads ?? []) {
      if (upload.Key && upload.UploadId) {
        await client.send(new AbortMultipartUploadCommand({ Bucket, Key: upload.Key, UploadId: upload.UploadId }));
      }
    }
  } finally {
    client.destroy();
  }
}
