import type { ManifestReference } from '../oci/manifest';

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

export interface PutManifestInput {
  record: ManifestRecord;
  content: Buffer;
  references: ManifestReference[];
  tag?: string;
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

export type DeleteOutcome = { status: 'deleted' } | { status: 'unknown' } | { status: 'referenced'; by: string[] };

/**
 * The manifest, tag and blob-link index. Every mutation is one transaction,
 * and each checks its invariants inside it: a manifest is recorded only if
 * everything it references is linked in its repository, and nothing still
 * referenced can be unlinked.
 */
export interface MetadataIndex {
  linkBlob(repository: string, digest: string, size: number): Promise<void>;
  /** Size of a blob linked in the repository, or null. */
  linkedBlobSize(repository: string, digest: string): Promise<number | null>;
  unlinkBlob(repository: string, digest: string): Promise<DeleteOutcome>;

  /** Throws MissingReferenceError when a referenced blob or manifest is not in the repository. */
  putManifest(input: PutManifestInput): Promise<void>;
  getManifest(repository: string, digest: string): Promise<StoredManifest | null>;
  /** The manifest a tag names, resolved and read at once (one query: what a pull by tag does first). */
  getTaggedManifest(repository: string, tag: string): Promise<StoredManifest | null>;
  /** The manifest record without its content (HEAD, listings). */
  statManifest(repository: string, digest: string): Promise<ManifestRecord | null>;
  resolveTag(repository: string, tag: string): Promise<string | null>;
  deleteManifest(repository: string, digest: string): Promise<DeleteOutcome>;
  deleteTag(repository: string, tag: string): Promise<boolean>;

  repositoryExists(repository: string): Promise<boolean>;
  listTags(repository: string, page: Page): Promise<string[]>;
  listRepositories(page: Page): Promise<string[]>;
  listReferrers(repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]>;
  close(): Promise<void>;
}

export class MissingReferenceError extends Error {
  constructor(readonly reference: ManifestReference) {
    super(`${reference.kind} ${reference.digest} is not in the repository`);
    this.name = 'MissingReferenceError';
  }
}
