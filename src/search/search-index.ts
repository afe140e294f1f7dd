/** Who may see a package: only public ones, or also those of the owners, repository owners and repositories named. */
export type Visibility = 'public' | 'private';

/** One package as search sees it: every fact a query matches, filters, ranks or shows. */
export interface SearchDocument {
  /** The OCI name, `owner/rest`. */
  name: string;
  owner: string;
  ownerKind: 'user' | 'org';
  ownerId: number;
  /** The linked source repository, whose visibility and roles the package follows. */
  repository: { id: number; ownerId: number; fullName: string } | null;
  /** The visibility in force (the repository's when linked). */
  visibility: Visibility;
  description: string | null;
  /** Image config labels and manifest annotations of the latest version (annotations win). */
  labels: Readonly<Record<string, string>>;
  tags: readonly string[];
  /** `os/arch` and, with a variant, `os/arch/variant`. */
  platforms: readonly string[];
  /** Manifest digests, `algorithm:hex`. */
  digests: readonly string[];
  /** Downloads of the last 30 days. */
  downloads: number;
  updatedAt: number;
  latestTag: string | null;
  /** When these facts were read: a write older than the stored one is ignored, and reconcile compares it with the last change. */
  indexedAt: number;
}

/**
 * The packages a caller may see, as ids the service resolved: public ones
 * always; with `some`, also unlinked packages owned by `ownerIds`, packages
 * linked to repositories owned by `repositoryOwnerIds`, and those linked to
 * `repositoryIds`. Expressed in the query, so nothing else is counted or ranked.
 */
export type SearchAccess =
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'some'; ownerIds: readonly number[]; repositoryOwnerIds: readonly number[]; repositoryIds: readonly number[] };

export interface SearchFilter {
  owner?: { name: string; kind: 'user' | 'org' };
  /** `owner/name` of the linked repository. */
  repository?: string;
  visibility?: Visibility;
  labels: ReadonlyArray<{ key: string; value: string }>;
  tags: readonly string[];
  /** `os/arch` or `os/arch/variant`. */
  platforms: readonly string[];
  /** Only packages with a tag (true) or without one (false); not a qualifier of the query language (the owner pages' filter). */
  tagged?: boolean;
}

/** An order other than relevance, for lists (an owner's packages): each ends with the name, so pages never overlap. */
export type PackageOrder = 'updated' | 'downloads' | 'name';

export interface IndexQuery {
  /**
   * The free text as a name (lowercase, single spaces): an exact name ranks
   * first, then a name prefix, then a name segment. Empty: no free text.
   */
  phrase: string;
  /** Words of the free text (lowercase letters and digits): full-text matches need all of them. */
  words: readonly string[];
  /** Lowercase hex, 12 or more characters: manifests whose digest starts with it match. */
  digestPrefix?: string;
  filter: SearchFilter;
  access: SearchAccess;
  /** Absent: by relevance (text tiers), then downloads, recency and name. */
  order?: PackageOrder;
  offset: number;
  limit: number;
}

export interface SearchHit {
  name: string;
  owner: string;
  ownerKind: 'user' | 'org';
  visibility: Visibility;
  description: string | null;
  updatedAt: number;
  downloads: number;
  latestTag: string | null;
}

/** What reconcile compares with the package model, per indexed package. */
export interface IndexStamp {
  indexedAt: number;
  visibility: Visibility;
  ownerId: number;
  repositoryId: number | null;
}

/** The full-text package index: one document per package. */
export interface SearchIndex {
  /** Stores the document in place of the package's, unless the stored one was read later. */
  put(document: SearchDocument): Promise<void>;
  remove(name: string): Promise<void>;
  /** Sets an indexed package's 30-day downloads (pulls change nothing else); nothing when it is not indexed. */
  setDownloads(name: string, downloads: number): Promise<void>;
  /** Matches, counted and ranked among what `access` allows only. */
  search(query: IndexQuery): Promise<{ total: number; hits: SearchHit[] }>;
  /** Every indexed package's stamp, by name. */
  stamps(): Promise<Map<string, IndexStamp>>;
}
