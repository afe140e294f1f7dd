import path from 'node:path';
import type { Express } from 'express';
import type { Config } from './config';
import type { Logger } from './log';
import { createHttpApp } from './http/app';
import { openDatabase } from './metadata/sqlite/database';
import { SqliteMetadataIndex } from './metadata/sqlite/sqlite-metadata-index';
import { SqliteUploadSessionStore } from './sessions/sqlite/sqlite-upload-session-store';
import { FsBlobStore } from './storage/fs/fs-blob-store';
import { BlobService } from './registry/blob-service';
import { ListingService } from './registry/listing-service';
import { ManifestService } from './registry/manifest-service';
import { ReferrerService } from './registry/referrer-service';
import { UploadService } from './registry/upload-service';

export interface Registry {
  app: Express;
  uploads: UploadService;
  close(): Promise<void>;
}

/**
 * The composition root: builds stores and services from configuration and
 * wires them into the HTTP app. Nothing else constructs drivers.
 */
export async function createRegistry(config: Config, log: Logger): Promise<Registry> {
  const db = openDatabase(path.join(config.dataDir, 'berth.db'));
  const blobStore = new FsBlobStore(path.join(config.dataDir, 'storage'));
  await blobStore.init();
  const sessions = new SqliteUploadSessionStore(db);
  const index = new SqliteMetadataIndex(db);

  const uploads = new UploadService(blobStore, sessions, index, log, {
    sessionTtlMs: config.uploads.sessionTtlSeconds * 1000,
  });
  const blobs = new BlobService(blobStore, index);
  const app = createHttpApp({
    log,
    blobs,
    uploads,
    manifests: new ManifestService(index),
    listing: new ListingService(index, config.maxPageSize),
    referrers: new ReferrerService(index),
  });
  return {
    app,
    uploads,
    async close() {
      await sessions.close();
      await index.close();
      db.close();
    },
  };
}
