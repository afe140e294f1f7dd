export type Visibility = 'public' | 'private';
export type RepositoryRole = 'read' | 'write' | 'admin';

/** What a package links to through org.opencontainers.image.source; not an OCI repository (a package here). */
export interface SourceRepository {
  id: number;
  ownerId: number;
  ownerName: string;
  name: string;
  visibility: Visibility;
  createdAt: number;
}

/** Source repositories and their collaborators. */
export interface SourceRepositoryStore {
  /** Throws NameTakenError when the owner has a repository of that name. */
  createRepository(ownerId: number, name: string, visibility: Visibility): Promise<SourceRepository>;
  repository(ownerName: string, name: string): Promise<SourceRepository | null>;
  repositoryById(id: number): Promise<SourceRepository | null>;
  /** Ordered by name. */
  listRepositories(ownerId: number): Promise<SourceRepository[]>;
  setRepositoryVisibility(id: number, visibility: Visibility): Promise<void>;
  /** Deletes the repository with its collaborators; false when there was none. */
  deleteRepository(id: number): Promise<boolean>;

  /** Sets a collaborator's role; `null` removes the collaborator. */
  setCollaborator(repositoryId: number, userId: number, role: RepositoryRole | null): Promise<void>;
  collaboratorRole(repositoryId: number, userId: number): Promise<RepositoryRole | null>;
  /** Ordered by the collaborator's name. */
  collaborators(repositoryId: number): Promise<Array<{ userId: number; name: string; role: RepositoryRole }>>;
  /** Ids of the repositories the user collaborates on, any role, ascending (search's access filter). */
  collaborations(userId: number): Promise<number[]>;
}
