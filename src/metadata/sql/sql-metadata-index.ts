import type { Database, Queryable, SqlValue } from '../../persistence/database';
import type { ManifestReference } from '../../oci/manifest';
import {
  MissingReferenceError,
  OwnerQuotaError,
  TagKeptError,
  VersionLimitError,
  type BlobCharge,
  type DeleteOutcome,
  type LinkOptions,
  type MetadataChange,
  type ManifestRecord,
  type MetadataIndex,
  type Page,
  type PutManifestInput,
  type PutManifestOutcome,
  type PushedVersion,
  type ReferrerRecord,
  type StoredManifest,
} from '../metadata-index';
import type { VersionDeleteScope, VersionFacts, VersionList, VersionQuery, VersionRecord, VersionRestoration } from '../versions';
import { METADATA_QUERIES as Q, PUT_MANIFEST_ON_POSTGRES } from './metadata-queries';
import { softDelete, SqlVersions } from './sql-versions';
import { VERSION_QUERIES as V } from './version-queries';
import { BLOB_LIFECYCLE_QUERIES as G } from './blob-lifecycle-queries';
import { SqlBlobLifecycle } from './sql-blob-lifecycle';
import type { GarbageEstimate, SweepRules } from '../blob-lifecycle';
import { ownerNameRange, ownerOf } from '../owners';
import { addUsage, ownerLinks, ownerUsage, recomputeUsage, releaseIfLast } from './owner-usage';

interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  config_digest: string | null;
  config_media_type: string | null;
  subject: string | null;
  annotations: string | null;
  created_at: number;
}

const CHANGE_KINDS: ReadonlySet<MetadataChange['kind']> = new Set([
  'manifest.pushed',
  'tag.deleted',
  'version.deleted',
  'version.restored',
]);

interface ChangeRow {
  id: number;
  at: number;
  kind: string;
  repository: string;
  digest: string | null;
  tag: string | null;
  previous_digest: string | null;
  media_type: string | null;
  new_version: number;
  actor: string | null;
}

/**
 * The metadata index on SQLite or PostgreSQL (tables: METADATA_MIGRATIONS).
 * Each mutation is one transaction that checks its invariants inside it, so
 * two replicas racing (a manifest put against an unlink of a blob it needs)
 * cannot leave a manifest whose references are gone: SQLite serialises the
 * writers, PostgreSQL runs them SERIALIZABLE and retries the loser.
 */
export class SqlMetadataIndex implements MetadataIndex {
  private readonly versions: SqlVersions;
  private readonly lifecycle: SqlBlobLifecycle;

  constructor(private readonly db: Database) {
    this.versions = new SqlVersions(db);
    this.lifecycle = new SqlBlobLifecycle(db);
  }

  async linkBlob(repository: string, digest: string, size: number, options: LinkOptions = {}): Promise<boolean> {
    const now = Date.now();
    const owner = ownerOf(repository);
    const outcome = await this.db.transaction(
      async (tx): Promise<boolean | OwnerQuotaError> => {
        if (options.claim !== undefined && (await tx.run(G.releaseClaim, [digest, options.claim])).changes === 0) return false;
        const state = await tx.get<{ size: number | string; deleting_at: number | null }>(G.blobState, [digest]);
        if (state ? state.deleting_at !== null : options.existing === true) return false;
        // The owner's usage, in the link's own transaction (design: src/quotas/quota-limits.ts).
        const added = (await ownerLinks(tx, owner, digest)) ? 0 : Number(state?.size ?? size);
        if (added > 0 && options.maxOwnerBytes !== undefined) {
          const used = await ownerUsage(tx, owner);
          // Returned, not thrown: the claim's release above commits (the bytes are then an orphan for GC).
          if (used + added > options.maxOwnerBytes) return new OwnerQuotaError(owner, used, options.maxOwnerBytes, added);
        }
        const repoId = await ensureRepository(tx, repository, now);
        await tx.run(Q.insertBlob, [digest, size, now]);
        await tx.run(Q.insertLink, [repoId, digest, now]);
        if (added > 0) await addUsage(tx, owner, added);
        // Linked but not yet referenced: garbage once the grace period has passed, unless a manifest names it.
        await tx.run(G.markCandidate, [digest, now]);
        return true;
      },
      // The rows concurrent links write most: the owner's usage and the blob's candidacy.
      { queueOn: [`owner_usage:${owner}`, `blob_candidates:${digest}`] },
    );
    if (outcome instanceof OwnerQuotaError) throw outcome;
    return outcome;
  }

  async blobCharge(repository: string, digest: string, size: number): Promise<BlobCharge> {
    const owner = ownerOf(repository);
    const linked = await ownerLinks(this.db, owner, digest);
    return { owner, usedBytes: await ownerUsage(this.db, owner), addedBytes: linked ? 0 : size };
  }

  ownerUsage(owner: string): Promise<number> {
    return ownerUsage(this.db, owner);
  }

  recomputeOwnerUsage(owner: string): Promise<number> {
    return recomputeUsage(this.db, owner);
  }

  async liveVersionCounts(owner: string): Promise<Map<string, number>> {
    const rows = await this.db.all<{ name: string; n: number | string }>(Q.liveVersionCounts, ownerNameRange(owner));
    return new Map(rows.map((r) => [r.name, Number(r.n)]));
  }

  async linkedBlobSize(repository: string, digest: string): Promise<number | null> {
    return (await this.db.get<{ size: number }>(Q.linkedSize, [repository, digest]))?.size ?? null;
  }

  async unlinkBlob(repository: string, digest: string): Promise<DeleteOutcome> {
    return this.db.transaction(async (tx): Promise<DeleteOutcome> => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null || !(await tx.get(Q.isLinked, [repoId, digest]))) return { status: 'unknown' };
      const by = await referrersOf(tx, Q.blobReferrers, repoId, digest);
      if (by.length > 0) return { status: 'referenced', by };
      await tx.run(Q.deleteLink, [repoId, digest]);
      const blob = await tx.get<{ size: number | string }>(G.blobState, [digest]);
      if (blob) await releaseIfLast(tx, repository, digest, Number(blob.size));
      await tx.run(G.markCandidate, [digest, Date.now()]);
      return { status: 'deleted' };
    });
  }

  async putManifest(input: PutManifestInput): Promise<PutManifestOutcome> {
    const { record, content, references, tag, sparse, keepTag, actor, maxVersions } = input;
    if (this.db.dialect === 'postgres') return this.putManifestOnPostgres(input);
    return this.db.transaction(async (tx): Promise<PutManifestOutcome> => {
      const repoId = await ensureRepository(tx, record.repository, record.createdAt);
      if (!sparse) for (const ref of references) await assertPresent(tx, repoId, ref);
      if (keepTag === true && tag !== undefined) {
        const current = await tx.get<{ manifest_digest: string }>(Q.taggedDigest, [repoId, tag]);
        if (current && current.manifest_digest !== record.digest) throw new TagKeptError(tag, current.manifest_digest);
      }
      if (maxVersions !== undefined && !(await tx.get(Q.hasManifest, [repoId, record.digest]))) {
        const live = await tx.get<{ n: number }>(Q.countLiveVersions, [repoId, maxVersions]);
        if ((live?.n ?? 0) >= maxVersions) throw new VersionLimitError(record.repository, maxVersions);
      }
      await tx.run(Q.insertContent, [record.digest, content]);
      const written = await tx.run(Q.insertManifest, [repoId, record.digest, ...describedBy(record), record.createdAt, record.createdAt]);
      await tx.run(Q.insertVersion, [repoId, record.digest]);
      for (const ref of references) await tx.run(Q.insertReference, [repoId, record.digest, ref.kind, ref.digest]);
      const previous = tag === undefined ? undefined : await tx.get<{ manifest_digest: string }>(Q.taggedDigest, [repoId, tag]);
      if (tag !== undefined) await tx.run(Q.upsertTag, [repoId, tag, record.digest, record.createdAt]);
      const previousTagDigest = previous?.manifest_digest ?? null;
      await tx.run(Q.insertChange, [
        record.createdAt,
        'manifest.pushed',
        record.repository,
        record.digest,
        tag ?? null,
        previousTagDigest,
        record.mediaType,
        written.changes > 0 ? 1 : 0,
        actor ?? null,
      ]);
      return { previousTagDigest };
    });
  }

  /** putManifest in one statement (PUT_MANIFEST_ON_POSTGRES), its own transaction: 1 round trip, not 11. */
  private async putManifestOnPostgres({
    record,
    content,
    references,
    tag,
    sparse,
    keepTag,
    actor,
    maxVersions,
  }: PutManifestInput): Promise<PutManifestOutcome> {
    const rows = await this.db.allInOwnTransaction<{ kind: string | null; digest: string | null; previous: string | null }>(
      PUT_MANIFEST_ON_POSTGRES,
      [
        record.repository,
        record.createdAt,
        JSON.stringify(references.map(({ kind, digest }) => ({ kind, digest }))),
        record.digest,
        content,
        ...describedBy(record),
        tag ?? null,
        sparse === true ? 1 : 0,
        keepTag === true ? 1 : 0,
        actor ?? null,
        maxVersions ?? null,
      ],
    );
    // The first missing one in the manifest's order, as the portable path reports it.
    const first = references.find((ref) => rows.some((m) => m.kind === ref.kind && m.digest === ref.digest));
    if (first) throw new MissingReferenceError(first);
    const refused = rows.find((row) => row.kind === 'refused');
    if (refused && tag !== undefined) throw new TagKeptError(tag, refused.previous ?? '');
    if (maxVersions !== undefined && rows.some((row) => row.kind === 'over_limit'))
      throw new VersionLimitError(record.repository, maxVersions);
    return { previousTagDigest: rows.find((row) => row.kind === null)?.previous ?? null };
  }

  async getManifest(repository: string, digest: string): Promise<StoredManifest | null> {
    const row = await this.db.get<ManifestRow & { content: Buffer }>(Q.getManifest, [repository, digest]);
    return row ? { ...toRecord(repository, row), content: row.content } : null;
  }

  async getTaggedManifest(repository: string, tag: string): Promise<StoredManifest | null> {
    const row = await this.db.get<ManifestRow & { content: Buffer }>(Q.getTaggedManifest, [repository, tag]);
    return row ? { ...toRecord(repository, row), content: row.content } : null;
  }

  async statManifest(repository: string, digest: string): Promise<ManifestRecord | null> {
    const row = await this.db.get<ManifestRow>(Q.statManifest, [repository, digest]);
    return row ? toRecord(repository, row) : null;
  }

  async resolveTag(repository: string, tag: string): Promise<string | null> {
    return (await this.db.get<{ manifest_digest: string }>(Q.resolveTag, [repository, tag]))?.manifest_digest ?? null;
  }

  async deleteManifest(repository: string, digest: string, actor?: string): Promise<DeleteOutcome> {
    return this.db.transaction(async (tx): Promise<DeleteOutcome> => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null || !(await tx.get(Q.hasManifest, [repoId, digest]))) return { status: 'unknown' };
      const by = await referrersOf(tx, Q.manifestReferrers, repoId, digest);
      if (by.length > 0) return { status: 'referenced', by };
      // Soft (issue #15): the version can be restored until GC purges it; its references stay for that.
      await softDelete(tx, repository, repoId, digest, { now: Date.now(), actor });
      return { status: 'deleted' };
    });
  }

  async deleteTag(repository: string, tag: string, { digest, actor }: { digest?: string; actor?: string } = {}): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const deleted =
        digest === undefined
          ? await tx.get<{ manifest_digest: string }>(Q.deleteTag, [repository, tag])
          : await tx.get<{ manifest_digest: string }>(Q.deleteTagOf, [repository, tag, digest]);
      if (!deleted) return false;
      await tx.run(Q.insertChange, [Date.now(), 'tag.deleted', repository, null, tag, deleted.manifest_digest, null, 0, actor ?? null]);
      return true;
    });
  }

  async changes(limit: number): Promise<MetadataChange[]> {
    const rows = await this.db.all<ChangeRow>(Q.changes, [limit]);
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      kind: CHANGE_KINDS.has(r.kind as MetadataChange['kind']) ? (r.kind as MetadataChange['kind']) : 'manifest.pushed',
      repository: r.repository,
      digest: r.digest,
      tag: r.tag,
      previousDigest: r.previous_digest,
      mediaType: r.media_type,
      newVersion: r.new_version === 1,
      actor: r.actor,
    }));
  }

  async acknowledgeChanges(ids: readonly number[]): Promise<void> {
    for (let at = 0; at < ids.length; at += 500) {
      const batch = ids.slice(at, at + 500);
      await this.db.run(`DELETE FROM metadata_changes WHERE id IN (${batch.map(() => '?').join(', ')})`, batch);
    }
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return (await this.db.get(Q.hasContent, [repository])) !== undefined;
  }

  async listTags(repository: string, page: Page): Promise<string[]> {
    const rows = await this.db.all<{ name: string }>(Q.listTags, [repository, page.last ?? '', page.limit]);
    return rows.map((r) => r.name);
  }

  async listRepositories(page: Page): Promise<string[]> {
    const rows = await this.db.all<{ name: string }>(Q.listRepositories, [page.last ?? '', page.limit]);
    return rows.map((r) => r.name);
  }

  async listReferrers(repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]> {
    const rows = await this.db.all<ManifestRow>(Q.referrers, [repository, subject]);
    const records = rows.map((row) => ({
      digest: row.digest,
      mediaType: row.media_type,
      size: row.size,
      artifactType: row.artifact_type,
      configMediaType: row.config_media_type,
      annotations: parseAnnotations(row.annotations),
    }));
    if (artifactType === undefined) return records;
    return records.filter((r) => (r.artifactType ?? r.configMediaType) === artifactType);
  }

  listVersions(repository: string, query: VersionQuery): Promise<VersionList> {
    return this.versions.list(repository, query);
  }

  getVersion(repository: string, id: number): Promise<VersionRecord | null> {
    return this.versions.get(repository, id);
  }

  async pushedVersions(repository: string, digests: readonly string[]): Promise<Map<string, PushedVersion>> {
    const found = new Map<string, PushedVersion>();
    const distinct = [...new Set(digests)];
    for (let at = 0; at < distinct.length; at += DIGESTS_PER_LOOKUP) {
      const some = distinct.slice(at, at + DIGESTS_PER_LOOKUP);
      const rows = await this.db.all<
        ManifestRow & { version_id: number | string; version_digest: string; deleted_at: number | null; content: Buffer | null }
      >(V.pushedVersions(some.length), [repository, ...some]);
      for (const row of rows) {
        const live = row.deleted_at === null && row.content !== null;
        found.set(row.version_digest, {
          versionId: Number(row.version_id),
          manifest: live ? { ...toRecord(repository, row), content: row.content! } : null,
        });
      }
    }
    return found;
  }

  versionFacts(versions: readonly VersionRecord[]): Promise<VersionFacts[]> {
    return this.versions.facts(versions);
  }

  deleteVersion(repository: string, id: number, options: VersionDeleteScope & { now: number; actor?: string }): Promise<number[] | null> {
    return this.versions.delete(repository, id, options);
  }

  restoreVersion(repository: string, id: number, now: number, actor?: string): Promise<VersionRestoration | null> {
    return this.versions.restore(repository, id, { now, actor });
  }

  deleteAllVersions(repository: string, now: number, actor?: string): Promise<number> {
    return this.versions.deleteAll(repository, { now, actor });
  }

  restoreVersionsDeletedAt(repository: string, deletedAt: number, now: number, actor?: string): Promise<VersionRestoration> {
    return this.versions.restoreDeletedAt(repository, deletedAt, { now, actor });
  }

  claimBlob(digest: string, claim: string, now: number): Promise<boolean> {
    return this.lifecycle.claimBlob(digest, claim, now);
  }

  blobCandidates(before: number, limit: number, after: string): Promise<string[]> {
    return this.lifecycle.blobCandidates(before, limit, after);
  }

  beginBlobDeletions(digests: readonly string[], rules: SweepRules): Promise<Map<string, number>> {
    return this.lifecycle.beginBlobDeletions(digests, rules);
  }

  dropReferencedCandidates(digests: readonly string[]): Promise<string[]> {
    return this.lifecycle.dropReferencedCandidates(digests);
  }

  finishBlobDeletions(digests: readonly string[]): Promise<void> {
    return this.lifecycle.finishBlobDeletions(digests);
  }

  purgeDeletedManifests(deletedBefore: number, limit: number, now: number): Promise<number> {
    return this.lifecycle.purgeDeletedManifests(deletedBefore, limit, now);
  }

  knownBlobs(digests: readonly string[]): Promise<Set<string>> {
    return this.lifecycle.knownBlobs(digests);
  }

  adoptOrphanBlob(digest: string, size: number, rules: SweepRules): Promise<boolean> {
    return this.lifecycle.adoptOrphanBlob(digest, size, rules);
  }

  garbageEstimate(rules: SweepRules, deletedBefore: number): Promise<GarbageEstimate> {
    return this.lifecycle.garbageEstimate(rules, deletedBefore);
  }

  async close(): Promise<void> {
    // The database is owned by whoever connected it.
  }
}

async function repositoryId(tx: Queryable, name: string): Promise<number | null> {
  return (await tx.get<{ id: number }>(Q.repositoryId, [name]))?.id ?? null;
}

async function ensureRepository(tx: Queryable, name: string, now: number): Promise<number> {
  await tx.run(Q.insertRepository, [name, now]);
  const id = await repositoryId(tx, name);
  if (id === null) throw new Error(`repository ${name} vanished inside its own transaction`);
  return id;
}

async function assertPresent(tx: Queryable, repoId: number, ref: ManifestReference): Promise<void> {
  const present = await tx.get(ref.kind === 'blob' ? Q.isLinked : Q.hasManifest, [repoId, ref.digest]);
  if (!present) throw new MissingReferenceError(ref);
}

async function referrersOf(tx: Queryable, sql: string, repoId: number, digest: string): Promise<string[]> {
  return (await tx.all<{ manifest_digest: string }>(sql, [repoId, digest])).map((r) => r.manifest_digest);
}

function parseAnnotations(text: string | null): Record<string, string> | null {
  return text ? (JSON.parse(text) as Record<string, string>) : null;
}

/** The manifests columns from media_type to annotations, in their order in both insert statements. */
function describedBy(record: ManifestRecord): SqlValue[] {
  return [
    record.mediaType,
    record.size,
    record.artifactType,
    record.configDigest,
    record.configMediaType,
    record.subject,
    record.annotations ? JSON.stringify(record.annotations) : null,
  ];
}

/** Digests per pushedVersions query: far below either driver's parameter limit. */
const DIGESTS_PER_LOOKUP = 100;

function toRecord(repository: string, row: ManifestRow): ManifestRecord {
  return {
    repository,
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    artifactType: row.artifact_type,
    configDigest: row.config_digest,
    configMediaType: row.config_media_type,
    subject: row.subject,
    annotations: parseAnnotations(row.annotations),
    createdAt: row.created_at,
  };
}
