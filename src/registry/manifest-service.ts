import {
  DigestMismatch,
  ManifestBlobMissing,
  ManifestReferenceMissing,
  ManifestTooLarge,
  ManifestUnknown,
  TagImmutable,
  ReferencedElsewhere,
} from './errors';
import type { EventActor, RegistryEvents } from '../events/registry-events';
import { digestOf, looksLikeDigest, parseDigest } from '../oci/digest';
import { isValidTag } from '../oci/reference';
import { MAX_MANIFEST_BYTES, parseManifest } from '../oci/manifest';
import { ManifestInvalid } from '../oci/grammar-errors';
import { fromVersionLimitError, NO_QUOTA, type StorageQuota } from './storage-quota';
import {
  MissingReferenceError,
  TagKeptError,
  VersionLimitError,
  type ManifestRecord,
  type MetadataIndex,
  type StoredManifest,
} from '../metadata/metadata-index';

/** A reference from a URL, split into what it is: a tag or a digest. */
export type ManifestReferenceParam = { tag: string } | { digest: string };

/**
 * Splits a URL reference. A malformed tag is invalid input on push, but on
 * pull or delete it simply names nothing: MANIFEST_UNKNOWN, as the spec's
 * conformance suite expects.
 */
export function parseReference(reference: string, intent: 'read' | 'write' = 'read'): ManifestReferenceParam {
  if (looksLikeDigest(reference)) {
    const parsed = parseDigest(reference);
    return { digest: parsed.value };
  }
  if (!isValidTag(reference)) {
    const detail = `invalid tag: ${reference}`;
    throw intent === 'write' ? new ManifestInvalid(detail) : new ManifestUnknown(detail);
  }
  return { tag: reference };
}

/** Which tags are immutable: the rule covering one, described for a refusal, or null. */
export interface TagPolicy {
  ruleFor(repository: string, tag: string): Promise<string | null>;
  /** Whether any rule may cover a tag of the repository (a delete by digest looks at its tags only then). */
  governs(repository: string): Promise<boolean>;
}

export const NO_IMMUTABLE_TAGS: TagPolicy = { ruleFor: () => Promise.resolve(null), governs: () => Promise.resolve(false) };

export interface PushedManifest {
  /** The tags the push applied: the reference's, and each `?tag=` parameter. */
  tags: string[];
  digest: string;
  subject: string | null;
}

/** Manifests and tags: validation on push, resolution on pull, and the reference rules on delete. */
export class ManifestService {
  constructor(
    private readonly index: MetadataIndex,
    private readonly events?: RegistryEvents,
    /** Repositories whose manifests may be sparse (references not pushed): off for all unless configured. */
    private readonly sparseAllowed: (repository: string) => boolean = () => false,
    /** Immutable tags (src/immutability); none without it. */
    private readonly tagPolicy: TagPolicy = NO_IMMUTABLE_TAGS,
    /** Quotas (src/quotas): the versions limit; none without it. */
    private readonly quota: StorageQuota = NO_QUOTA,
  ) {}

  private immutableTagRule(repository: string, tag: string): Promise<string | null> {
    return this.tagPolicy.ruleFor(repository, tag);
  }

  async resolve(repository: string, reference: string): Promise<string> {
    const ref = parseReference(reference);
    if ('digest' in ref) return ref.digest;
    const digest = await this.index.resolveTag(repository, ref.tag);
    if (digest === null) throw new ManifestUnknown({ tag: ref.tag });
    return digest;
  }

  async get(repository: string, reference: string): Promise<StoredManifest> {
    const ref = parseReference(reference);
    if ('tag' in ref) {
      // One lookup, not resolve-then-read: half the database round trips of a pull by tag.
      const tagged = await this.index.getTaggedManifest(repository, ref.tag);
      if (!tagged) throw new ManifestUnknown({ tag: ref.tag });
      return tagged;
    }
    const manifest = await this.index.getManifest(repository, ref.digest);
    if (!manifest) throw new ManifestUnknown({ digest: ref.digest });
    return manifest;
  }

  /**
   * Tells listeners a manifest was downloaded (see ManifestPulledEvent). Not
   * awaited: the pull path never waits on what listeners do with it.
   */
  pulled(repository: string, digest: string): void {
    if (this.events) void this.events.emit('manifest.pulled', { repository, digest });
  }

  async stat(repository: string, reference: string): Promise<ManifestRecord> {
    const digest = await this.resolve(repository, reference);
    const manifest = await this.index.statManifest(repository, digest);
    if (!manifest) throw new ManifestUnknown({ digest });
    return manifest;
  }

  async put(
    repository: string,
    reference: string,
    content: Buffer,
    contentType: string | undefined,
    actor: EventActor = {},
    /** `?tag=` parameters: more tags for the same manifest, each a tag push of its own. */
    tagParams: readonly string[] = [],
  ): Promise<PushedManifest> {
    if (content.length > MAX_MANIFEST_BYTES) {
      throw new ManifestTooLarge(MAX_MANIFEST_BYTES);
    }
    const ref = parseReference(reference, 'write');
    for (const t of tagParams) if (!isValidTag(t)) throw new ManifestInvalid(`invalid tag parameter: ${t}`);
    const parsed = parseManifest(content, contentType);
    let digest: string;
    if ('digest' in ref) {
      const algorithm = parseDigest(ref.digest).algorithm;
      digest = digestOf(content, algorithm);
      if (digest !== ref.digest) throw new DigestMismatch(`manifest content has digest ${digest}`);
    } else {
      digest = digestOf(content);
    }
    const record = {
      repository,
      digest,
      mediaType: parsed.mediaType,
      size: content.length,
      artifactType: parsed.artifactType,
      configDigest: parsed.configDigest,
      configMediaType: parsed.configMediaType,
      subject: parsed.subject,
      annotations: parsed.annotations,
      createdAt: Date.now(),
    };
    // One put per tag: the reference's first, then each `?tag=`; a digest push without any is one untagged put.
    const refTag = 'tag' in ref ? ref.tag : undefined;
    const tags: Array<string | undefined> =
      tagParams.length === 0 ? [refTag] : [...new Set([...(refTag === undefined ? [] : [refTag]), ...tagParams])];
    const maxVersions = await this.quota.maxVersions(repository);
    for (const tag of tags) {
      let previousDigest: string | null | undefined;
      try {
        // Where the tag pointed, read in the push's own transaction, so listeners (the audit log) can tell a tag move.
        const sparse = this.sparseAllowed(repository);
        const rule = tag === undefined ? null : await this.immutableTagRule(repository, tag);
        const keepTag = rule !== null;
        const outcome = await this.index.putManifest({
          record,
          content,
          references: parsed.references,
          tag,
          sparse,
          keepTag,
          maxVersions,
          ...(actor.name === undefined ? {} : { actor: actor.name }),
        });
        if (tag !== undefined) previousDigest = outcome.previousTagDigest;
      } catch (err) {
        if (err instanceof TagKeptError) {
          const rule = (await this.immutableTagRule(repository, err.tag)) ?? 'an immutable-tag rule';
          throw new TagImmutable(`tag ${err.tag} is immutable (${rule}): it names ${err.current} and cannot move to ${digest}`);
        }
        if (err instanceof VersionLimitError) throw fromVersionLimitError(err);
        if (err instanceof MissingReferenceError) {
          const detail = { digest: err.reference.digest };
          throw err.reference.kind === 'blob' ? new ManifestBlobMissing(detail) : new ManifestReferenceMissing(detail);
        }
        throw err;
      }
      await this.events?.emit('manifest.pushed', { ...record, tag, previousDigest, actor });
    }
    return { digest, subject: parsed.subject, tags: tags.filter((t): t is string => t !== undefined) };
  }

  /** By digest: the manifest and its tags. By tag: just the tag. */
  async delete(repository: string, reference: string, actor: EventActor = {}): Promise<void> {
    const ref = parseReference(reference);
    if ('tag' in ref) {
      const rule = await this.immutableTagRule(repository, ref.tag);
      if (rule !== null && (await this.index.resolveTag(repository, ref.tag)) !== null) {
        throw new TagImmutable(`tag ${ref.tag} is immutable (${rule}): it cannot be deleted`);
      }
      if (!(await this.index.deleteTag(repository, ref.tag, { actor: actor.name }))) throw new ManifestUnknown({ tag: ref.tag });
      await this.events?.emit('manifest.deleted', { repository, tag: ref.tag, actor });
      return;
    }
    await this.refuseImmutableTagsOf(repository, ref.digest);
    const outcome = await this.index.deleteManifest(repository, ref.digest, actor.name);
    if (outcome.status === 'unknown') throw new ManifestUnknown({ digest: ref.digest });
    if (outcome.status === 'referenced') {
      throw new ReferencedElsewhere({ digest: ref.digest, referencedBy: outcome.by });
    }
    await this.events?.emit('manifest.deleted', { repository, digest: ref.digest, actor });
  }

  /** A delete by digest takes the manifest's tags with it: refused when one of them is immutable. */
  private async refuseImmutableTagsOf(repository: string, digest: string): Promise<void> {
    if (!(await this.tagPolicy.governs(repository))) return;
    const [version] = (await this.index.listVersions(repository, { state: 'active', digest, limit: 1 })).versions;
    for (const tag of version?.tags ?? []) {
      const rule = await this.immutableTagRule(repository, tag);
      if (rule !== null) throw new TagImmutable(`tag ${tag} is immutable (${rule}): its manifest cannot be deleted`);
    }
  }
}
