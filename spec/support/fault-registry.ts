import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createHttpApp } from '../../src/http/app';
import { createLogger } from '../../src/log';
import { openDatabase } from '../../src/metadata/sqlite/database';
import { SqliteMetadataIndex } from '../../src/metadata/sqlite/sqlite-metadata-index';
import type { MetadataIndex } from '../../src/metadata/metadata-index';
import { BlobService } from '../../src/registry/blob-service';
import { ListingService } from '../../src/registry/listing-service';
import { ManifestService } from '../../src/registry/manifest-service';
import { ReferrerService } from '../../src/registry/referrer-service';
import { UploadService } from '../../src/registry/upload-service';
import { SqliteUploadSessionStore } from '../../src/sessions/sqlite/sqlite-upload-session-store';
import type { UploadSessionStore } from '../../src/sessions/upload-session-store';
import type { BlobStore } from '../../src/storage/blob-store';
import { FsBlobStore } from '../../src/storage/fs/fs-blob-store';
import { FaultSwitch, withFaults, type Vanisher } from './fault-injection';

export interface FaultRegistry {
  http: ReturnType<typeof request>;
  faults: FaultSwitch;
  /** The stores themselves, without faults: to inspect what storage really holds. */
  blobs: BlobStore;
  sessions: UploadSessionStore;
  index: MetadataIndex;
  storageRoot: string;
  close(): Promise<void>;
}

/**
 * Berth's services and HTTP app, composed as src/registry.ts does for the
 * embedded default (fs blobs, SQLite sessions and index, open mode), with each
 * store behind a fault-injecting wrapper.
 */
export async function startFaultRegistry(): Promise<FaultRegistry> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-faults-'));
  const storageRoot = path.join(dataDir, 'storage');
  const db = openDatabase(path.join(dataDir, 'berth.db'));
  const index = new SqliteMetadataIndex(db);
  const sessions = new SqliteUploadSessionStore(db);
  const blobs = new FsBlobStore(storageRoot);
  await blobs.init();
  const log = createLogger('silent');
  const faults = new FaultSwitch();

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

  const faultyBlobs = withFaults<BlobStore>(blobs, 'blobs', faults, vanishBlob);
  const faultySessions = withFaults<UploadSessionStore>(sessions, 'sessions', faults, vanishSession);
  const faultyIndex = withFaults<MetadataIndex>(index, 'index', faults);
  const uploads = new UploadService(faultyBlobs, faultySessions, faultyIndex, log, { sessionTtlMs: 3_600_000 });
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
    storageRoot,
    async close() {
      await uploads.settle(5_000);
      await index.close();
      db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
