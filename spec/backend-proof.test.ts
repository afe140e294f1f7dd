import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import BetterSqlite3 from 'better-sqlite3';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { Config } from '../src/config';
import { MediaType } from '../src/oci/media-types';
import { pushBlob, pushManifest, startUpload } from './support/http';
import { blob, descriptor, EMPTY_CONFIG, imageManifest, type TestBlob } from './support/oci';
import { startTestRegistry, type TestRegistry } from './support/registry';
import { requiredEnv, testS3Client } from './support/scale-out';
import { specBackend, type SpecBackend } from './support/test-backend';

/**
 * Where a registry from the shared helpers (startTestRegistry) really keeps its data, looked
 * at directly rather than through Berth: in the jest project `embedded` the SQLite file and
 * the blob directory under the data directory; in `postgres-redis-s3` its PostgreSQL schema,
 * its Redis keys and its S3 prefix, with nothing under the data directory, and none of them
 * left once it is closed. Without this, a helper that quietly fell back to the embedded
 * default would pass every other spec in the servers project.
 */
interface Pushed {
  layer: TestBlob;
  manifestDigest: string;
  uploadId: string;
}

interface Place {
  manifestsInDatabase(): Promise<string[]>;
  blobKeys(): Promise<string[]>;
  uploadSessionStored(id: string): Promise<boolean>;
  /** What of the registry's data is found where the other backend keeps it. */
  elsewhere(): string[];
  /** Whether anything of the registry is left where it kept its data. */
  anythingLeft(): Promise<boolean>;
}

const sqliteFile = (config: Config) => path.join(config.dataDir, 'berth.db');

function fileManifests(config: Config): string[] {
  if (!existsSync(sqliteFile(config))) return [];
  const file = new BetterSqlite3(sqliteFile(config), { readonly: true });
  try {
    const table = file.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'manifests'").get();
    return table ? file.prepare('SELECT digest FROM manifests').pluck().all().map(String) : [];
  } finally {
    file.close();
  }
}

function fileBlobs(config: Config): string[] {
  const root = path.join(config.dataDir, 'storage', 'blobs', 'sha256');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((two) => readdirSync(path.join(root, two)).map((hex) => `sha256:${hex}`));
}

const embedded = (config: Config): Place => ({
  manifestsInDatabase: async () => fileManifests(config),
  blobKeys: async () => fileBlobs(config),
  async uploadSessionStored(id) {
    const file = new BetterSqlite3(sqliteFile(config), { readonly: true });
    try {
      return file.prepare('SELECT 1 FROM upload_sessions WHERE id = ?').get(id) !== undefined;
    } finally {
      file.close();
    }
  },
  // No server configured: the registry has nowhere else to write.
  elsewhere: () => Object.entries({ database: config.database, redis: config.redis, s3: config.s3 }).flatMap(([k, v]) => (v ? [k] : [])),
  anythingLeft: async () => existsSync(config.dataDir),
});

function servers(config: Config): Place {
  const { database, redis, s3 } = config;
  if (!database || !redis || !s3)
    throw new Error(`the servers project gave a registry without them: ${JSON.stringify({ database, redis, s3 })}`);
  const withPool = async <T>(fn: (pool: Pool) => Promise<T>): Promise<T> => {
    const pool = new Pool({ connectionString: database.url, max: 1 });
    try {
      return await fn(pool);
    } finally {
      await pool.end();
    }
  };
  const withRedis = async <T>(fn: (client: Redis) => Promise<T>): Promise<T> => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 2 });
    try {
      return await fn(client);
    } finally {
      await client.quit();
    }
  };
  const s3Keys = async (): Promise<string[]> => {
    const client = testS3Client();
    try {
      const out = await client.send(new ListObjectsV2Command({ Bucket: requiredEnv('S3_BUCKET'), Prefix: s3.prefix }));
      return (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
    } finally {
      client.destroy();
    }
  };
  const schema = () =>
    withPool(async (pool) => (await pool.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s ?? null);
  return {
    manifestsInDatabase: () =>
      withPool(async (pool) => {
        const own = await schema();
        if (!own?.startsWith('spec_')) throw new Error(`the registry's database is in schema ${own}, not one of its own`);
        return (await pool.query<{ digest: string }>('SELECT digest FROM manifests')).rows.map((r) => r.digest);
      }),
    blobKeys: async () =>
      (await s3Keys()).filter((k) => k.startsWith(`${s3.prefix}blobs/`)).map((k) => `sha256:${k.slice(k.lastIndexOf('/') + 1)}`),
    elsewhere: () => [...fileManifests(config), ...fileBlobs(config)],
    uploadSessionStored: (id) => withRedis(async (client) => (await client.exists(`${redis.keyPrefix}upload:${id}`)) === 1),
    async anythingLeft() {
      const keys = await withRedis((client) => client.keys(`${redis.keyPrefix}*`));
      return (await schema()) !== null || keys.length > 0 || (await s3Keys()).length > 0 || existsSync(config.dataDir);
    },
  };
}

const PLACES: Record<SpecBackend, (config: Config) => Place> = { embedded, 'postgres-redis-s3': servers };

describe(`a registry from the spec helpers in the ${specBackend()} project`, () => {
  let t: TestRegistry;
  let place: Place;
  let pushed: Pushed;

  beforeAll(async () => {
    t = await startTestRegistry();
    place = PLACES[specBackend()](t.config);
    const layer = blob('a layer that must land on the project backend');
    await pushBlob(t.http, 'proof/app', layer);
    await pushBlob(t.http, 'proof/app', EMPTY_CONFIG);
    const manifest = imageManifest({
      config: descriptor(EMPTY_CONFIG, MediaType.OCI_CONFIG),
      layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
    });
    const { digest } = await pushManifest(t.http, 'proof/app', 'v1', manifest);
    const location = await startUpload(t.http, 'proof/app');
    const uploadId = location.slice(location.lastIndexOf('/') + 1);
    pushed = { layer, manifestDigest: digest, uploadId };
  });

  it('keeps the manifest in its database', async () => {
    expect(await place.manifestsInDatabase()).toEqual([pushed.manifestDigest]);
  });

  it('keeps the blobs in its blob storage', async () => {
    expect((await place.blobKeys()).sort()).toEqual([pushed.layer.digest, EMPTY_CONFIG.digest].sort());
  });

  it('keeps an open upload in its session store', async () => {
    expect(await place.uploadSessionStored(pushed.uploadId)).toBe(true);
    expect(await place.uploadSessionStored('no-such-upload')).toBe(false);
  });

  it('keeps none of it where the other backend would', () => {
    expect(place.elsewhere()).toEqual([]);
  });

  it('leaves nothing behind once closed', async () => {
    await t.close();
    expect(await place.anythingLeft()).toBe(false);
  });
});
