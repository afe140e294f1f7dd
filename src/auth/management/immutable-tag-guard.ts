import type { MetadataIndex } from '../../metadata/metadata-index';
import type { VersionRecord } from '../../metadata/versions';
import { parseManifest } from '../../oci/manifest';
import { TagImmutable } from '../../registry/errors';
import type { TagPolicy } from '../../registry/manifest-service';

export type GuardedIndex = Pick<MetadataIndex, 'getManifest' | 'listVersions' | 'getVersion' | 'versionFacts'>;

/** Versions read per page when a whole package is checked. */
const PAGE = 500;

/**
 * The packages API's side of immutable tags (issue #22): what the registry refuses on `DELETE /v2/…/manifests`
 * (a tag, or a manifest carrying one) is refused here too, before anything is deleted, for a tag, a version with
 * its tree (index children and referrers: a cosign `sha256-….sig` tag is a tag like any other), and a package.
 * Repositories no rule governs cost one cached lookup.
 */
export class ImmutableTagGuard {
  constructor(
    private readonly index: GuardedIndex,
    private readonly policy: TagPolicy,
  ) {}

  async refuseTag(repository: string, tag: string): Promise<void> {
    const rule = await this.policy.ruleFor(repository, tag);
    if (rule !== null) throw new TagImmutable(`tag ${tag} is immutable (${rule}): it cannot be deleted`);
  }

  /** Refuses when a tag of the versions (and with `tree`, of their children and referrers) is immutable. */
  async refuseVersions(repository: string, versions: readonly VersionRecord[], tree: boolean): Promise<void> {
    if (versions.length === 0 || !(await this.policy.governs(repository))) return;
    const reached = tree ? await this.tree(repository, versions) : versions;
    for (const version of reached) await this.refuseTagsOf(repository, version);
  }

  /** Refuses when any active version of the package carries an immutable tag. */
  async refusePackage(repository: string): Promise<void> {
    if (!(await this.policy.governs(repository))) return;
    let beforeId: number | undefined;
    for (;;) {
      const { versions } = await this.index.listVersions(repository, { state: 'active', tagged: true, beforeId, limit: PAGE });
      for (const version of versions) await this.refuseTagsOf(repository, version);
      const last = versions.at(-1);
      if (versions.length < PAGE || !last) return;
      beforeId = last.id;
    }
  }

  private async refuseTagsOf(repository: string, version: VersionRecord): Promise<void> {
    for (const tag of version.tags) {
      const rule = await this.policy.ruleFor(repository, tag);
      if (rule !== null) {
        throw new TagImmutable(`tag ${tag} (version ${version.id}) is immutable (${rule}): the version cannot be deleted`);
      }
    }
  }

  /** The versions, their children (an index's manifests) and the referrers of all, as a tree delete reaches. */
  private async tree(repository: string, roots: readonly VersionRecord[]): Promise<VersionRecord[]> {
    const seen = new Map<number, VersionRecord>();
    const queue = [...roots];
    while (queue.length > 0) {
      const version = queue.shift() as VersionRecord;
      if (seen.has(version.id)) continue;
      seen.set(version.id, version);
      for (const digest of await this.childDigests(repository, version.digest)) {
        const [child] = (await this.index.listVersions(repository, { state: 'active', digest, limit: 1 })).versions;
        if (child) queue.push(child);
      }
      const [facts] = await this.index.versionFacts([version]);
      for (const links of Object.values(facts?.referrers ?? {})) {
        for (const link of links) {
          const referrer = await this.index.getVersion(repository, link.id);
          if (referrer && referrer.deletedAt === null) queue.push(referrer);
        }
      }
    }
    return [...seen.values()];
  }

  private async childDigests(repository: string, digest: string): Promise<string[]> {
    const stored = await this.index.getManifest(repository, digest);
    if (!stored) return [];
    return parseManifest(stored.content, stored.mediaType).children.map((d) => d.digest);
  }
}
