import { DomainError } from '../domain-error';

/**
 * Versions: every manifest of a repository, by a stable integer id unique
 * across the instance (issue #15). Deletes are soft: a deleted version stops
 * resolving and leaves the listings, and a restore brings it back with the
 * tags it had, unless a tag has moved to another digest since.
 */
export type VersionState = 'active' | 'deleted';

export interface VersionQuery {
  state: VersionState;
  /** Only versions with tags (true) or without (false); a deleted version counts the tags it had. */
  tagged?: boolean;
  digest?: string;
  /**
   * Only leftovers nothing needs and that need nothing: untagged, in no live
   * index, the subject of no live referrer, and no referrer of a live subject.
   */
  orphaned?: boolean;
  /** Newest (highest id) first; skip this many (GitHub's page). */
  offset?: number;
  /** Keyset paging: only versions older than this id. */
  beforeId?: number;
  limit: number;
}

export interface VersionRecord {
  id: number;
  repository: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  configMediaType: string | null;
  subject: string | null;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  /** The tags pointing at it; for a deleted version, the ones a restore would bring back. */
  tags: string[];
}

export interface VersionList {
  versions: VersionRecord[];
  /** Every version the query matches, past this page too (for GitHub's `last` link). */
  total: number;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
}

export interface VersionLink {
  id: number;
  digest: string;
}

/** What the API shows of a version beyond GitHub's fields. */
export interface VersionFacts {
  /** The manifest's own bytes plus the blobs it references (config and layers). */
  size: number;
  /** For an index's child: the platform its (first live) parent index lists it under. */
  platform: Platform | null;
  /** Live indexes that contain it. */
  parents: VersionLink[];
  /** Live referrers (signatures, SBOMs, attestations), grouped by artifact type. */
  referrers: Record<string, VersionLink[]>;
}

/** How far a version delete reaches. */
export interface VersionDeleteScope {
  /** Also the children no other live index contains, and the referrers of all. */
  tree: boolean;
  /** A referrer (signature, SBOM) goes although its subject is live. */
  detach: boolean;
}

export interface VersionRestoration {
  /** Ids brought back: the version, its deleted children, and referrers deleted with it. */
  restored: number[];
  tagsRestored: string[];
  /** Tags that point at another digest now, and keep it. */
  tagsMoved: Array<{ tag: string; digest: string }>;
}

/**
 * A version a live index contains, that live referrers name as subject, or that is a referrer (signature,
 * SBOM) of a live manifest: deleting it alone would break them.
 */
export class VersionInUse extends DomainError {
  constructor(
    readonly digest: string,
    readonly parents: string[],
    readonly referrers: string[],
    readonly subject: string | null = null,
  ) {
    super({
      digest,
      parents,
      referrers,
      ...(subject !== null ? { subject } : {}),
      reason:
        parents.length > 0
          ? `${digest} is contained in ${parents.join(', ')}; delete the index, or ask for the whole tree`
          : referrers.length > 0
            ? `${digest} is the subject of ${referrers.join(', ')}; ask for the whole tree to delete them too`
            : `${digest} is attached to ${subject ?? ''}, which is live; ask to detach it, or delete that manifest's tree`,
    });
  }
}

/** A restore whose blobs or child manifests have been unlinked or purged since the delete. */
export class VersionRestoreBlocked extends DomainError {
  constructor(
    readonly digest: string,
    readonly missing: string[],
  ) {
    super({ digest, missing, reason: `${digest} cannot be restored: ${missing.join(', ')} no longer in the repository` });
  }
}

/** When a version change happens and who makes it (an account name; absent when anonymous, in open mode or by the CLI). */
export interface ChangeStamp {
  now: number;
  actor?: string;
}
