import type { Database, Queryable, SqlValue } from '../../persistence/database';
import {
  VersionInUse,
  VersionRestoreBlocked,
  type Platform,
  type VersionFacts,
  type VersionLink,
  type VersionList,
  type VersionQuery,
  type VersionRecord,
  type VersionRestoration,
} from '../versions';
import { METADATA_QUERIES } from './metadata-queries';
import { VERSION_FILTERS as F, VERSION_QUERIES as V } from './version-queries';

interface VersionRow {
  id: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  config_media_type: string | null;
  subject: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/**
 * Versions and soft deletes over the metadata index's tables (the part of
 * SqlMetadataIndex issue #15 added). Every change is one transaction that
 * checks, inside it, what would break.
 */
export class SqlVersions {
  constructor(private readonly db: Database) {}

  async list(repository: string, query: VersionQuery): Promise<VersionList> {
    const repoId = await repositoryId(this.db, repository);
    if (repoId === null) return { versions: [], total: 0 };
    const conditions: string[] = [query.state === 'deleted' ? F.deleted : F.active];
    const params: SqlValue[] = [repoId];
    if (query.digest !== undefined) {
      conditions.push(F.digest);
      params.push(query.digest);
    }
    const tagged = query.state === 'deleted' ? F.hadTags : F.hasTags;
    if (query.tagged === true) conditions.push(tagged);
    if (query.tagged === false) conditions.push(`NOT ${tagged}`);
    if (query.orphaned) conditions.push(`NOT ${tagged}`, `NOT ${F.inLiveIndex}`, `NOT ${F.hasLiveReferrers}`, `NOT ${F.hasLiveSubject}`);
    const countWhere = conditions.map((c) => ` AND ${c}`).join('');
    const countParams = [...params];
    if (query.beforeId !== undefined) {
      conditions.push(F.olderThan);
      params.push(query.beforeId);
    }
    const where = conditions.map((c) => ` AND ${c}`).join('');
    const rows = await this.db.all<VersionRow>(V.page(where, query.digest === undefined), [...params, query.limit, query.offset ?? 0]);
    const counted = await this.db.get<{ total: number | string }>(V.count(countWhere), countParams);
    const versions: VersionRecord[] = [];
    for (const row of rows) versions.push(await this.toRecord(this.db, repository, repoId, row));
    return { versions, total: Number(counted?.total ?? 0) };
  }

  async get(repository: string, id: number): Promise<VersionRecord | null> {
    const repoId = await repositoryId(this.db, repository);
    if (repoId === null) return null;
    const row = await this.db.get<VersionRow>(V.byId, [id, repoId]);
    return row ? this.toRecord(this.db, repository, repoId, row) : null;
  }

  async facts(version: VersionRecord): Promise<VersionFacts> {
    const repoId = await repositoryId(this.db, version.repository);
    if (repoId === null) return { size: 0, platform: null, parents: [], referrers: {} };
    const own = await this.db.get<{ size: number }>('SELECT size FROM manifests WHERE repository_id = ? AND digest = ?', [
      repoId,
      version.digest,
    ]);
    const blobs = await this.db.get<{ size: number | string }>(V.blobsSize, [repoId, version.digest]);
    const parentRows = await this.db.all<{ id: number; digest: string; content: Buffer }>(V.liveParents, [repoId, version.digest]);
    const referrerRows = await this.db.all<{ id: number; digest: string; artifact_type: string | null; config_media_type: string | null }>(
      V.liveReferrers,
      [repoId, version.digest],
    );
    const parents = parentRows.map((p) => ({ id: p.id, digest: p.digest })).sort(byId);
    let platform: Platform | null = null;
    for (const p of [...parentRows].sort(byId)) {
      platform = platformIn(p.content, version.digest);
      if (platform) break;
    }
    const referrers: Record<string, VersionLink[]> = {};
    for (const r of [...referrerRows].sort(byId)) {
      const type = r.artifact_type ?? r.config_media_type ?? 'unknown';
      (referrers[type] ??= []).push({ id: r.id, digest: r.digest });
    }
    return { size: (own?.size ?? 0) + Number(blobs?.size ?? 0), platform, parents, referrers };
  }

  async delete(repository: string, id: number, options: { tree: boolean; now: number }): Promise<number[] | null> {
    return this.db.transaction(async (tx) => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null) return null;
      const row = await tx.get<VersionRow>(V.byId, [id, repoId]);
      if (!row || row.deleted_at !== null) return null;
      const doomed = options.tree ? await treeOf(tx, repoId, row.digest) : new Set([row.digest]);
      for (const digest of doomed) {
        const parents = (await liveParentDigests(tx, repoId, digest)).filter((d) => !doomed.has(d));
        const referrers = (await liveReferrerDigests(tx, repoId, digest)).filter((d) => !doomed.has(d));
        if (parents.length > 0 || referrers.length > 0) throw new VersionInUse(digest, parents, referrers);
      }
      const ids: number[] = [];
      for (const digest of doomed) {
        await softDelete(tx, repository, repoId, digest, options.now);
        ids.push(await versionIdOf(tx, repoId, digest));
      }
      return ids.sort((a, b) => a - b);
    });
  }

  async restore(repository: string, id: number, now: number): Promise<VersionRestoration | null> {
    return this.db.transaction(async (tx) => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null) return null;
      const row = await tx.get<VersionRow>(V.byId, [id, repoId]);
      if (!row) return null;
      if (row.deleted_at === null) return { restored: [], tagsRestored: [], tagsMoved: [] };
      const returning = await deletedTreeOf(tx, repoId, row.digest, row.deleted_at);
      return restoreAll(tx, repository, repoId, returning, now);
    });
  }

  async deleteAll(repository: string, now: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null) return 0;
      const live = await tx.all<{ digest: string }>(V.liveDigests, [repoId]);
      for (const { digest } of live) await softDelete(tx, repository, repoId, digest, now);
      return live.length;
    });
  }

  async restoreDeletedAt(repository: string, deletedAt: number, now: number): Promise<VersionRestoration> {
    return this.db.transaction(async (tx) => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null) return { restored: [], tagsRestored: [], tagsMoved: [] };
      const rows = await tx.all<{ digest: string }>(V.digestsDeletedAt, [repoId, deletedAt]);
      return restoreAll(tx, repository, repoId, new Set(rows.map((r) => r.digest)), now);
    });
  }

  private async toRecord(q: Queryable, repository: string, repoId: number, row: VersionRow): Promise<VersionRecord> {
    const tags = await q.all<{ name: string }>(row.deleted_at === null ? V.tags : V.rememberedTags, [repoId, row.digest]);
    return {
      id: row.id,
      repository,
      digest: row.digest,
      mediaType: row.media_type,
      artifactType: row.artifact_type,
      configMediaType: row.config_media_type,
      subject: row.subject,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      deletedAt: row.deleted_at,
      // Byte order, as the tags list gives them (sorted here: PostgreSQL would sort them in a plan step).
      tags: tags.map((t) => t.name).sort(byteOrder),
    };
  }
}

/**
 * A manifest's soft delete: its tags are remembered for a restore and
 * removed, so they stop resolving and leave the tags list; the row stays
 * (content, references and version id) until GC purges it.
 */
export async function softDelete(tx: Queryable, repository: string, repoId: number, digest: string, now: number): Promise<void> {
  await tx.run(METADATA_QUERIES.insertChange, [now, 'version.deleted', repository, digest, null, null, null, 0]);
  await tx.run(V.forgetTags, [repoId, digest]);
  await tx.run(V.rememberTags, [now, repoId, digest]);
  await tx.run(V.dropTags, [repoId, digest]);
  await tx.run(V.markDeleted, [now, now, repoId, digest]);
}

/** The version, its live children no live index outside the tree contains, and the live referrers of all. */
async function treeOf(tx: Queryable, repoId: number, root: string): Promise<Set<string>> {
  const tree = new Set([root]);
  const pending = [root];
  while (pending.length > 0) {
    const digest = pending.pop() as string;
    for (const ref of await tx.all<{ kind: string; digest: string }>(V.references, [repoId, digest])) {
      if (ref.kind !== 'manifest' || tree.has(ref.digest) || !(await isLive(tx, repoId, ref.digest))) continue;
      // A child another live index shares stays, and is no reason to refuse.
      const others = (await liveParentDigests(tx, repoId, ref.digest)).filter((d) => !tree.has(d));
      if (others.length > 0) continue;
      tree.add(ref.digest);
      pending.push(ref.digest);
    }
    for (const referrer of await liveReferrerDigests(tx, repoId, digest)) {
      if (tree.has(referrer)) continue;
      tree.add(referrer);
      pending.push(referrer);
    }
  }
  return tree;
}

/** What a restore brings back: the version, its deleted children, and referrers deleted in the same operation. */
async function deletedTreeOf(tx: Queryable, repoId: number, root: string, deletedAt: number): Promise<Set<string>> {
  const tree = new Set([root]);
  const pending = [root];
  while (pending.length > 0) {
    const digest = pending.pop() as string;
    for (const ref of await tx.all<{ kind: string; digest: string }>(V.references, [repoId, digest])) {
      if (ref.kind !== 'manifest' || tree.has(ref.digest)) continue;
      const state = await tx.get<{ deleted_at: number | null }>(V.manifestState, [repoId, ref.digest]);
      if (state && state.deleted_at !== null) {
        tree.add(ref.digest);
        pending.push(ref.digest);
      }
    }
    for (const r of await tx.all<{ digest: string }>(V.referrersDeletedAt, [repoId, digest, deletedAt])) {
      if (tree.has(r.digest)) continue;
      tree.add(r.digest);
      pending.push(r.digest);
    }
  }
  return tree;
}

async function restoreAll(
  tx: Queryable,
  repository: string,
  repoId: number,
  digests: Set<string>,
  now: number,
): Promise<VersionRestoration> {
  for (const digest of digests) {
    const missing: string[] = [];
    for (const ref of await tx.all<{ kind: string; digest: string }>(V.references, [repoId, digest])) {
      const present =
        ref.kind === 'blob'
          ? (await tx.get(METADATA_QUERIES.isLinked, [repoId, ref.digest])) !== undefined
          : digests.has(ref.digest) || (await isLive(tx, repoId, ref.digest));
      if (!present) missing.push(ref.digest);
    }
    if (missing.length > 0) throw new VersionRestoreBlocked(digest, missing);
  }
  const result: VersionRestoration = { restored: [], tagsRestored: [], tagsMoved: [] };
  for (const digest of digests) {
    await tx.run(V.markRestored, [now, repoId, digest]);
    await tx.run(METADATA_QUERIES.insertChange, [now, 'version.restored', repository, digest, null, null, null, 0]);
    for (const { name } of await tx.all<{ name: string }>(V.rememberedTags, [repoId, digest])) {
      const target = await tx.get<{ manifest_digest: string }>(V.tagTarget, [repoId, name]);
      if (target) {
        if (target.manifest_digest !== digest) result.tagsMoved.push({ tag: name, digest: target.manifest_digest });
        continue;
      }
      await tx.run(V.insertTag, [repoId, name, digest, now]);
      result.tagsRestored.push(name);
    }
    await tx.run(V.forgetTags, [repoId, digest]);
    result.restored.push(await versionIdOf(tx, repoId, digest));
  }
  result.restored.sort((a, b) => a - b);
  result.tagsRestored.sort(byteOrder);
  return result;
}

async function isLive(tx: Queryable, repoId: number, digest: string): Promise<boolean> {
  return (await tx.get(METADATA_QUERIES.hasManifest, [repoId, digest])) !== undefined;
}

async function liveParentDigests(tx: Queryable, repoId: number, digest: string): Promise<string[]> {
  return (await tx.all<{ digest: string }>(V.liveParents, [repoId, digest])).map((r) => r.digest);
}

async function liveReferrerDigests(tx: Queryable, repoId: number, digest: string): Promise<string[]> {
  return (await tx.all<{ digest: string }>(V.liveReferrers, [repoId, digest])).map((r) => r.digest);
}

async function versionIdOf(tx: Queryable, repoId: number, digest: string): Promise<number> {
  const row = await tx.get<{ id: number }>(V.versionId, [repoId, digest]);
  if (!row) throw new Error(`manifest ${digest} has no version id`);
  return row.id;
}

async function repositoryId(q: Queryable, name: string): Promise<number | null> {
  return (await q.get<{ id: number }>(METADATA_QUERIES.repositoryId, [name]))?.id ?? null;
}

/** The platform an index's content lists a child under; content was validated when pushed. */
function platformIn(content: Buffer, digest: string): Platform | null {
  try {
    const parsed = JSON.parse(content.toString('utf8')) as { manifests?: Array<{ digest?: unknown; platform?: Record<string, unknown> }> };
    const entry = parsed.manifests?.find((m) => m.digest === digest);
    const p = entry?.platform;
    if (!p || typeof p.os !== 'string' || typeof p.architecture !== 'string') return null;
    const platform: Platform = { os: p.os, architecture: p.architecture };
    if (typeof p.variant === 'string') platform.variant = p.variant;
    if (typeof p['os.version'] === 'string') platform['os.version'] = p['os.version'];
    return platform;
  } catch {
    return null;
  }
}

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
