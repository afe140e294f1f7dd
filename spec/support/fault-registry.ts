import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createHttpApp } from '../../src/http/app';
import { createLogger } from '../../src/log';
import type { MetadataIndex } from '../../src/metadata/metadata-index';
import { BlobService } from '../../src/registry/blob-service';
import { ListingService } from '../../src/registry/listing-service';
import { ManifestService } from '../../src/registry/manifest-service';
import { ReferrerService } from '../../src/registry/referrer-service';
import { UploadService } from '../../src/registry/upload-service';
import { removeS3Prefix } from './test-backend';
import { openTestStores } from './test-stores';
import type { UploadSessionStore } from '../../src/sessions/upload-session-store';
import type { BlobStore } from '../../src/storage/blob-store';
import { S3BlobStore, S3_MIN_PART_SIZE } from '../../src/storage/s3/s3-blob-store';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { FaultSwitch, withFaults, type Vanisher } from './fault-injection';
import { faultyS3Client } from './s3-fault-injection';
import { requiredEnv } from './scale-out';

/**
 * `fs`: blob storage on a temporary directory, its operations failed by the
 * wrapper. `s3`: blob storage in the test bucket, its S3 requests failed at the
 * client's HTTP handler so that the driver's own translation is exercised.
 */
export type FaultStorage = 'fs' | 's3';

/** A committed blob whose bytes do not hash to its digest, or null if all are whole. */
type WholeCheck = () => Promise<string | null>;

export interface FaultRegistry {
  http: ReturnType<typeof request>;
  faults: FaultSwitch;
  /** The stores themselves, without faults: to inspect what storage really holds. */
  blobs: BlobStore;
  sessions: UploadSessionStore;
  index: MetadataIndex;
  /** The first committed blob whose bytes do not match its digest, or null: nothing half-written is visible. */
  brokenBlob: WholeCheck;
  close(): Promise<void>;
}

/**
 * Berth's services and HTTP app, composed as src/composition-root.ts does (open
 * mode), with each store behind a fault-injecting wrapper: the index and the
 * sessions on the jest project's backend (spec/support/test-stores.ts), the
 * blobs where `storage` says.
 */
export async function startFaultRegistry(storage: FaultStorage = 'fs'): Promise<FaultRegistry> {
  const stores = await openTestStores({ s3: undefined }, 'berth-faults-');
  const storageRoot = path.join(stores.config.dataDir, 'storage');
  const { index, sessions } = stores;
  const log = createLogger('silent');
  const faults = new FaultSwitch();
  let blobs: BlobStore;
  let brokenBlob: WholeCheck;
  let closeStorage: () => Promise<void>;
  if (storage === 's3') {
    const client = faultyS3Client(faults);
    const prefix = `faults-${randomUUID()}/`;
    blobs = new S3BlobStore(client, { bucket: requiredEnv('S3_BUCKET'), prefix, partSize: S3_MIN_PART_SIZE });
    brokenBlob = () => brokenS3Blob(client, prefix);
    closeStorage = async () => {
      await removeS3Prefix(prefix);
      client.destroy();
    };
  } else {
    blobs = stores.blobs;
    brokenBlob = () => brokenFsBlob(storageRoot);
    closeStorage = async () => undefined;
  }

  const blobFile = (digest: string) => {
    const [algorithm, hex] = digest.split(':') as [string, string];
    return path.join(storageRoot, 'blobs', algorithm, hex.slice(0, 2), hex);
  };
  const stagedFile = (id: string) => path.join(storageRoot, 'uploads', id);
  const vanishBlob: Vanisher = (method, args) => {
    const [subject] = args;
    if (typeof subject !== 'string') return null;
    if (['stat', 'openRead', 'copyTo', 'delete'].includes(method)) return () => fs.rm(blobFile(subject), { force: true });
    if (['uploadSize', 'openWrite', 'readUpload', 'commitUpload', 'abortUpload'].includes(method)) {
      return () => fs.rm(stagedFile(subject), { force: true });
    }
    return null;
  };
  const vanishSession: Vanisher = (method, args) => {
    const [id] = args;
    if (typeof id !== 'string' || !['get', 'setOffset', 'delete', 'tryLock', 'unlock'].includes(method)) return null;
    return () => sessions.delete(id);
  };

  // S3's faults come from its client; the store itself is used as it is.
  const faultyBlobs = storage === 'fs' ? withFaults<BlobStore>(blobs, 'blobs', faults, vanishBlob) : blobs;
  const faultySessions = withFaults<UploadSessionStore>(sessions, 'sessions', faults, vanishSession);
  const faultyIndex = withFaults<MetadataIndex>(index, 'index', faults);
  // As src/composition-root.ts: hash state saved with the session wherever staged bytes may not be readable.
  const uploads = new UploadService(faultyBlobs, faultySessions, faultyIndex, log, {
    sessionTtlMs: 3_600_000,
    hashing: storage === 's3' ? 'session' : 'process',
  });
  const app = createHttpApp({
    log,
    blobs: new BlobService(faultyBlobs, faultyIndex),
    uploads,
    manifests: new ManifestService(faultyIndex),
    listing: new ListingService(faultyIndex, 1000),
    referrers: new ReferrerService(faultyIndex),
  });
  return {
    http: request(app),
    faults,
    blobs,
    sessions,
    index,
    brokenBlob,
    async close() {
      await uploads.settle(5_000);
      await closeStorage();
      await stores.close();
    },
  };
}

function sha256Hex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

async function brokenFsBlob(storageRoot: string): Promise<string | null> {
  const root = path.join(storageRoot, 'blobs', 'sha256');
  for (const prefix of await fs.readdir(root).catch(() => [] as string[])) {
    for (const hex of await fs.readdir(path.join(root, prefix))) {
      if (sha256Hex(await fs.readFile(path.join(root, prefix, hex))) !== hex) return `sha256:${hex}`;
    }
  }
  return null;
}

async function s3Keys(client: S3Client, prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: requiredEnv('S3_BUCKET'), Prefix: prefix }));
  return (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
}

async function brokenS3Blob(client: S3Client, prefix: string): Promise<string | null> {
  for (const key of await s3Keys(client, `${prefix}blobs/sha256/`)) {
    const out = await client.send(new GetObjectCommand({ Bucket: requiredEnv('S3_BUCKET'), Key: key }));
    const content = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    const hex = key.slice(key.lastIndexOf('/') + 1);
    if (sha256Hex(content) !== hex) return `sha256:${hex}`;
  }
  return null;
}
