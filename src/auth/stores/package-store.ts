import type { Visibility } from './source-repository-store';

export interface PackageRecord {
  name: string;
  ownerId: number;
  sourceRepositoryId: number | null;
  /** The package's own visibility; a linked package uses its repository's instead. */
  visibility: Visibility;
  createdAt: number;
}

/** What GitHub's packages API adds to a package: its integer id, and when it was (softly) deleted. */
export interface PackageState {
  id: number;
  deletedAt: number | null;
}

/**
 * One entry of the package store's change journal, written in the change's own transaction. Entries may
 * appear out of id order (PostgreSQL takes ids before commit): consumers acknowledge what they read.
 */
export interface PackageChange {
  id: number;
  at: number;
  kind: 'linked' | 'unlinked' | 'visibility' | 'deleted' | 'restored' | 'promoted';
  name: string;
  /** For `visibility`: the new one. */
  visibility: Visibility | null;
  /** For `linked`: the source repository. */
  repositoryId: number | null;
  /** For `promoted`: what was promoted and where to (`owner/name:tag`, or `https://host/path:tag`). */
  promotion: { digest: string; target: string } | null;
}

/** Packages (OCI repositories) and the source repository each is linked to. */
export interface PackageStore {
  package(name: string): Promise<PackageRecord | null>;
  /** Creates the package unless it exists; returns what is stored either way. */
  ensurePackage(record: PackageRecord): Promise<PackageRecord>;
  linkPackage(name: string, repositoryId: number | null): Promise<void>;
  setPackageVisibility(name: string, visibility: Visibility): Promise<void>;
  /** Ordered by name; by repository when both filters are given, every package when none is. */
  listPackages(filter: { ownerId?: number; repositoryId?: number }): Promise<PackageRecord[]>;
  /** The package's id and deletion; null when there is no such package. */
  packageState(name: string): Promise<PackageState | null>;
  /** Marks the package deleted at that time, or (null) restored. */
  setPackageDeletedAt(name: string, deletedAt: number | null): Promise<void>;
  /** Journals a promotion of one of the package's versions (the promotion itself changed nothing stored here). */
  journalPromotion(name: string, digest: string, target: string): Promise<void>;
  /** Up to `limit` journal entries, oldest first: whatever is committed now. */
  changes(limit: number): Promise<PackageChange[]>;
  /** Drops handled journal entries; ids already gone are ignored. */
  acknowledgeChanges(ids: readonly number[]): Promise<void>;
}
