import type { MetadataIndex } from '../metadata/metadata-index';
import type { PackageCatalog, PackageFacts } from './package-catalog';

const PAGE = 1000;

/**
 * Open mode (auth `none`): no identity model, so every repository in the
 * metadata index is a public package of the namespace its name starts with.
 */
export class OpenPackageCatalog implements PackageCatalog {
  constructor(private readonly index: Pick<MetadataIndex, 'repositoryExists' | 'listRepositories'>) {}

  async package(name: string): Promise<PackageFacts | null> {
    return (await this.index.repositoryExists(name)) ? facts(name) : null;
  }

  async all(): Promise<PackageFacts[]> {
    const all: PackageFacts[] = [];
    let last: string | undefined;
    for (;;) {
      const names = await this.index.listRepositories({ last, limit: PAGE });
      all.push(...names.map(facts));
      if (names.length < PAGE) return all;
      last = names[names.length - 1];
    }
  }

  linkedTo(): Promise<string[]> {
    return Promise.resolve([]);
  }
}

function facts(name: string): PackageFacts {
  return {
    name,
    owner: name.split('/')[0] ?? name,
    ownerKind: 'user',
    ownerId: 0,
    repository: null,
    visibility: 'public',
    createdAt: 0,
    deletedAt: null,
  };
}
