import type { Visibility } from './source-repository-store';

export interface PackageRecord {
  name: string;
  ownerId: number;
  sourceRepositoryId: number | null;
  /** The package's own visibility; a linked package uses its repository's instead. */
  visibility: Visibility;
  createdAt: number;
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
}
