import type { Readable, Writable } from 'node:stream';
import { BlobUnknown, ReferencedElsewhere } from './errors';
import { parseDigest } from '../oci/digest';
import { BlobNotFoundError, type BlobStore, type ByteRange } from '../storage/blob-store';
import { OwnerQuotaError, type MetadataIndex } from '../metadata/metadata-index';
import { NO_QUOTA, type StorageQuota } from './storage-quota';

export interface BlobInfo {
  digest: string;
  size: number;
}

/** Reading, mounting and deleting blobs, always through a repository's links. */
export class BlobService {
  constructor(
    private readonly blobs: BlobStore,
    private readonly index: MetadataIndex,
    /** Storage quotas (src/quotas); none without it. */
    private readonly quota: StorageQuota = NO_QUOTA,
  ) {}

  /** A blob linked in the repository; BLOB_UNKNOWN otherwise, even if another repository has it. */
  async stat(repository: string, digestParam: string): Promise<BlobInfo> {
    const digest = parseDigest(digestParam).value;
    const size = await this.index.linkedBlobSize(repository, digest);
    if (size === null) throw new BlobUnknown({ digest });
    return { digest, size };
  }

  async open(info: BlobInfo, range?: ByteRange): Promise<Readable> {
    try {
      return await this.blobs.openRead(info.digest, range);
    } catch (err) {
      // Linked but gone from storage: report it as unknown rather than a 500 mid-pull.
      if (err instanceof BlobNotFoundError) throw new BlobUnknown({ digest: info.digest });
      throw err;
    }
  }

  /** Whether storage writes blobs out itself (`copyTo`), which costs less memory than a stream. */
  get copies(): boolean {
    return this.blobs.copyTo !== undefined;
  }

  /** Writes the blob, or a range of it, to `destination`; BLOB_UNKNOWN if storage lost it. */
  async copyTo(info: BlobInfo, destination: Writable, range?: ByteRange): Promise<void> {
    if (!this.blobs.copyTo) throw new Error('this blob storage cannot copy; use open()');
    try {
      await this.blobs.copyTo(info.digest, destination, range);
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new BlobUnknown({ digest: info.digest });
      throw err;
    }
  }

  /** A URL the client may fetch the blob from directly (a pre-signed S3 URL), or null to stream it. */
  async redirectUrl(info: BlobInfo): Promise<string | null> {
    return this.blobs.readUrl ? this.blobs.readUrl(info.digest) : null;
  }

  /**
   * Links a blob from another repository (cross-repository mount). Returns
   * false when the source does not have it, so the caller can fall back to
   * a new upload as the spec requires.
   */
  async mount(repository: string, digestParam: string, from: string): Promise<boolean> {
    const digest = parseDigest(digestParam).value;
    const size = await this.index.linkedBlobSize(from, digest);
    if (size === null) return false;
    if ((await this.blobs.stat(digest)) === null) return false;
    // Only a blob still recorded and not being garbage-collected: else the client uploads it. Over the owner's
    // quota too: the upload's commit then refuses it, saying why.
    const maxOwnerBytes = await this.quota.maxOwnerBytes(repository);
    try {
      return await this.index.linkBlob(repository, digest, size, { existing: true, maxOwnerBytes });
    } catch (err) {
      if (err instanceof OwnerQuotaError) return false;
      throw err;
    }
  }

  /**
   * Unlinks a blob from the repository. Refused while a manifest there still
   * references it, so no tag ever points at a manifest with missing blobs.
   * The stored bytes go at garbage collection, once nothing links them.
   */
  async delete(repository: string, digestParam: string): Promise<void> {
    const digest = parseDigest(digestParam).value;
    const outcome = await this.index.unlinkBlob(repository, digest);
    if (outcome.status === 'unknown') throw new BlobUnknown({ digest });
    if (outcome.status === 'referenced') {
      throw new ReferencedElsewhere({ digest, referencedBy: outcome.by });
    }
  }
}
