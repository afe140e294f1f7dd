import type { Visibility } from './search-index';

/** What the package model says of a package: who owns it, who may see it, whether it is deleted. */
export interface PackageFacts {
  name: string;
  owner: string;
  ownerKind: 'user' | 'org';
  ownerId: number;
  repository: { id: number; ownerId: number; fullName: string } | null;
  visibility: Visibility;
  createdAt: number;
  deletedAt: number | null;
}

/** Where the indexer learns a package's owner and visibility: the identity model, or (open mode) the metadata index. */
export interface PackageCatalog {
  package(name: string): Promise<PackageFacts | null>;
  /** Every package, deleted ones too (reconcile removes their documents). */
  all(): Promise<PackageFacts[]>;
  /** Names of the packages linked to a source repository (`owner/name`), whose visibility they follow. */
  linkedTo(repository: string): Promise<string[]>;
}
