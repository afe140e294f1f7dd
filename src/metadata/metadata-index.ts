import type { ManifestReference } from '../oci/manifest';
import type { BlobLifecycle } from './blob-lifecycle';
import type { VersionDeleteScope, VersionFacts, VersionList, VersionQuery, VersionRecord, VersionRestoration } from './versions';

export interface ManifestRecord {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  configDigest: string | null;
  configMediaType: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  createdAt: number;
}

export interface StoredManifest extends ManifestRecord {
  content: Buffer;
}

/** A version as a push announced it: its id (whatever its state now) and its manifest while that is live. */
export interface PushedVersion {
  versionId: number;
  /** Null once the version was deleted (its manifest no longer resolves). */
  manifest: StoredManifest | null;
}

export interface LinkOptions {
  claim?: string;
  existing?: boolean;
  /**
   * The byte quota of the repository's owner: a link that would add the blob to the owner's usage past it is
   * refused with OwnerQuotaError, linking nothing (a claim given is released all the same).
   */
  maxOwnerBytes?: number;
}

/** What linking a blob in a repository would add to its owner's usage (src/quotas/quota-limits.ts). */
export interface BlobCharge {
  owner: string;
  usedBytes: number;
  /** The blob's size when no repository of the owner links it yet, else 0. */
  addedBytes: number;
}

export interface PutManifestInput {
  record: ManifestRecord;
  content: Buffer;
  references: ManifestReference[];
  tag?: string;
  /**
   * Sparse (distribution-spec v1.1): references need not be present (a mirror that copies some platforms of an
   * image, or an image without some layers). They are recorded all the same, so a child pushed later has its parent.
   */
  sparse?: boolean;
  /** Who pushed (an account name), kept in the change journal; absent when anonymous or in open mode. */
  actor?: string;
  /** The tag is immutable: refused with TagKeptError, writing nothing, when it names another manifest already. */
  keepTag?: boolean;
  /** A push adding a live version to a repository that has this many is refused with VersionLimitError, writing nothing. */
  maxVersions?: number;
}

export interface PutManifestOutcome {
  /** What the tag named before this push, read in the same transaction (null: a new tag, or no tag given). */
  previousTagDigest: string | null;
}

export interface Page {
  /** Return entries strictly after this one, in lexical order. */
  last?: string;
  limit: number;
}

export interface ReferrerRecord {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  configMediaType: string | null;
  annotations: Record<string, string> | null;
}

/**
 * One entry of the index's change journal, written in the same transaction as the change: a manifest
 * pushed (with its tag, if one was given), a tag deleted, a version deleted (softly) or restored.
 */
export interface MetadataChange {
  id: number;
  at: number;
  kind: 'manifest.pushed' | 'tag.deleted' | 'version.deleted' | 'version.restored';
  repository: string;
  digest: string | null;
  tag: string | null;
  /** What the tag named before the change (null: a new tag, or none given). */
  previousDigest: string | null;
  mediaType: string | null;
  /** The push made the version (new, or revived from deleted); false when it was live already. */
  newVersion: boolean;
  /** Who made the change (an account name); null when anonymous, in open mode, or by the CLI. */
  actor: string | null;
}

export type DeleteOutcome = { status: 'deleted' } | { status: 'unknown' } | { status: 'referenced'; by: string[] };

/**
 * The manifest, tag and blob-link index. Every mutation is one transaction,
 * and each checks its invariants inside it: a manifest is recorded only if
 * everything it references is linked in its repository, and nothing still
 * referenced can be unlinked.
 */
export interface MetadataIndex extends BlobLifecycle {
  /**
   * Links a blob in the repository (recording it when new) and makes it a GC candidate. False, linking nothing,
   * while a sweep deletes the blob, when `claim` (claimBlob's, taken before the bytes were committed) is no longer
   * held, or, with `existing` (a mount: no bytes were just committed), when no row records the blob.
   */
  linkBlob(repository: string, digest: string, size: number, options?: LinkOptions): Promise<boolean>;
  /** Size of a blob linked in the repository, or null. */
  linkedBlobSize(repository: string, digest: string): Promise<number | null>;
  unlinkBlob(repository: string, digest: string): Promise<DeleteOutcome>;
  /** What linking the blob in the repository would add to its owner's usage, as things stand now. */
  blobCharge(repository: string, digest: string, size: number): Promise<BlobCharge>;
  /** The bytes of the distinct blobs linked to the owner's repositories: the counter kept with the links. */
  ownerUsage(owner: string): Promise<number>;
  /** The same figure computed from scratch over the links (a check of the counter: slower, O(owner's links)). */
  recomputeOwnerUsage(owner: string): Promise<number>;
  /** The live versions of each of the owner's repositories that has one, by repository name. */
  liveVersionCounts(owner: string): Promise<Map<string, number>>;

  /** Throws MissingReferenceError when a referenced blob or manifest is not in the repository. */
  putManifest(input: PutManifestInput): Promise<PutManifestOutcome>;
  getManifest(repository: string, digest: string): Promise<StoredManifest | null>;
  /** The manifest a tag names, resolved and read at once (one query: what a pull by tag does first). */
  getTaggedManifest(repository: string, tag: string): Promise<StoredManifest | null>;
  /** The manifest record without its content (HEAD, listings). */
  statManifest(repository: string, digest: string): Promise<ManifestRecord | null>;
  resolveTag(repository: string, tag: string): Promise<string | null>;
  /** Soft: the manifest stops resolving and its tags are remembered (a version restore brings them back). */
  deleteManifest(repository: string, digest: string, actor?: string): Promise<DeleteOutcome>;
  /** Removes the tag alone (its manifest stays); with `digest`, only while the tag still names that manifest. */
  deleteTag(repository: string, tag: string, options?: { digest?: string; actor?: string }): Promise<boolean>;

  repositoryExists(repository: string): Promise<boolean>;
  listTags(repository: string, page: Page): Promise<string[]>;
  listRepositories(page: Page): Promise<string[]>;
  listReferrers(repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]>;

  /** Versions (src/metadata/versions.ts): newest first, filtered, a page and the total. */
  listVersions(repository: string, query: VersionQuery): Promise<VersionList>;
  /** A version by its id, active or deleted; null when the repository has none with that id. */
  getVersion(repository: string, id: number): Promise<VersionRecord | null>;
  /**
   * The versions of several of a repository's digests (ids, active or deleted) with their manifests while live, in one
   * lookup (the webhook relay's batch of pushes); a digest that is no version of the repository is absent from the map.
   */
  pushedVersions(repository: string, digests: readonly string[]): Promise<Map<string, PushedVersion>>;
  /** The facts of versions of one repository, in their order (a page at a time, not a query per version). */
  versionFacts(versions: readonly VersionRecord[]): Promise<VersionFacts[]>;
  /**
   * Soft-deletes an active version; with `tree`, also its children no other live index
   * contains and the referrers of all of them. Throws VersionInUse when a live index
   * outside what is deleted contains one of them, live referrers outside it name one,
   * or (unless `detach`) one is a referrer of a live manifest outside it.
   * Null when no active version has the id. Returns the ids deleted.
   */
  deleteVersion(repository: string, id: number, options: VersionDeleteScope & { now: number; actor?: string }): Promise<number[] | null>;
  /**
   * Restores a deleted version, its deleted children and the referrers deleted with it.
   * Throws VersionRestoreBlocked when something they reference has been unlinked since.
   * Null when no version has the id; an active version restores nothing.
   */
  restoreVersion(repository: string, id: number, now: number, actor?: string): Promise<VersionRestoration | null>;
  /** Soft-deletes every active version of the repository at `now` (a package delete); returns how many. */
  deleteAllVersions(repository: string, now: number, actor?: string): Promise<number>;
  /** Restores the versions deleted at `deletedAt` (a package restore). */
  restoreVersionsDeletedAt(repository: string, deletedAt: number, now: number, actor?: string): Promise<VersionRestoration>;
  /**
   * Up to `limit` journal entries, oldest first: whatever is committed now. Entries may appear
   * out of id order (PostgreSQL takes ids before commit), so a consumer must not remember the
   * last id it saw: it handles what it got and acknowledges exactly those ids.
   */
  changes(limit: number): Promise<MetadataChange[]>;
  /** Drops handled journal entries; ids already gone are ignored (another consumer took them). */
  acknowledgeChanges(ids: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

export class MissingReferenceError extends Error {
  constructor(readonly reference: ManifestReference) {
    super(`${reference.kind} ${reference.digest} is not in the repository`);
    this.name = 'MissingReferenceError';
  }
}

/** A push that would move an immutable tag (PutManifestInput.keepTag) to another manifest. */
export class TagKeptError extends Error {
  constructor(
    readonly tag: string,
    readonly current: string,
  ) {
    super(`tag ${tag} names ${current} and is kept there`);
    this.name = 'TagKeptError';
  }
}

/** A link that would take the owner's usage past its quota (LinkOptions.maxOwnerBytes): nothing was linked. */
export class OwnerQuotaError extends Error {
  constructor(
    readonly owner: string,
    readonly usedBytes: number,
    readonly allowedBytes: number,
    readonly neededBytes: number,
  ) {
    super(`${owner} uses ${usedBytes} bytes of ${allowedBytes}; the blob needs ${neededBytes} more`);
    this.name = 'OwnerQuotaError';
  }
}

/** A push that would add a live version to a repository at its limit (PutManifestInput.maxVersions). */
export class VersionLimitError extends Error {
  constructor(
    readonly repository: string,
    readonly limit: number,
  ) {
    super(`${repository} has ${limit} versions, its limit`);
    this.name = 'VersionLimitError';
  }
}
