import { DomainError } from '../domain-error';

/** Where an upload stands, so a client told to resume knows from which byte and at which URL. */
export interface UploadPosition {
  repository: string;
  uploadId: string;
  /** Bytes received so far: the next chunk must start here. */
  offset: number;
}

/** A chunk that does not continue the upload (out of order, or another request is writing to it). */
export class UploadRangeInvalid extends DomainError {
  constructor(
    detail: string,
    readonly position: UploadPosition,
  ) {
    super(detail);
  }
}

/** An upload that was never started, has ended, expired, or was cancelled. */
export class UploadUnknown extends DomainError {}

/** An upload that can no longer be finished (its staged bytes cannot be verified). */
export class UploadInvalid extends DomainError {}

/** Content whose digest is not the one the client claimed. */
export class DigestMismatch extends DomainError {}

export class BlobUnknown extends DomainError {}

export class ManifestUnknown extends DomainError {}

export class ManifestTooLarge extends DomainError {
  constructor(readonly limitBytes: number) {
    super(`manifests are limited to ${limitBytes} bytes`);
  }
}

/** A manifest that names a blob the registry does not hold. */
export class ManifestBlobMissing extends DomainError {}

/** A manifest that names another manifest the registry does not hold. */
export class ManifestReferenceMissing extends DomainError {}

/** A blob or manifest that cannot be deleted while another manifest refers to it. */
export class ReferencedElsewhere extends DomainError {}

export class RepositoryUnknown extends DomainError {}

/** A page size (`n`) that is not a non-negative integer. */
export class PageSizeInvalid extends DomainError {}

/** A sealed catalog position (`last=~…`) that does not open: tampered with, or sealed under a key since rotated. */
export class PageCursorInvalid extends DomainError {}

/**
 * A blob whose bytes garbage collection is deleting at this moment: an upload of the same digest cannot commit
 * until the sweep is done (milliseconds), so the client is told to retry.
 */
export class BlobBeingCollected extends DomainError {}

/** A push that would move an immutable tag, or a delete of one; the detail names the rule. */
export class TagImmutable extends DomainError {}

/** A blob that would take its owner past the storage quota; the detail says how much is used and allowed. */
export class StorageQuotaExceeded extends DomainError {}

/** A manifest push that would add a version to a package at its limit; the detail says the limit. */
export class VersionQuotaExceeded extends DomainError {}
