import type { Database, Queryable, SqlValue } from '../../persistence/database';
import {
  VersionInUse,
  VersionRestoreBlocked,
  type ChangeStamp,
  type Platform,
  type VersionFacts,
  type VersionLink,
  type VersionList,
  type VersionDeleteScope,
  type VersionQuery,
  type VersionRecord,
  type VersionRestoration,
} from '../versions';
import { METADATA_QUERIES } from './metadata-queries';
import { VERSION_FACT_QUERIES as FQ, VERSION_FILTERS as F, VERSION_QUERIES as V } from './version-queries';

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
    const tagsOf = await this.tagsOf(repoId, rows);
    const versions = rows.map((row) => toRecord(repository, row, tagsOf.get(row.digest) ?? []));
    return { versions, total: Number(counted?.total ?? 0) };
  }

  async get(repository: string, id: number): Promise<VersionRecord | null> {
    const repoId = await repositoryId(this.db, repository);
    if (repoId === null) return null;
    const row = await this.db.get<VersionRow>(V.byId, [id, repoId]);
    return row ? toRecord(repository, row, (await this.tagsOf(repoId, [row])).get(row.digest) ?? []) : null;
  }

  /**
   * The facts of versions of one repository, in their order: five queries for a whole page, where one version
   * at a time took five each (a page of 100 on PostgreSQL: 500 round trips).
   */
  async facts(versions: readonly VersionRecord[]): Promise<VersionFacts[]> {
    const first = versions[0];
    if (!first) return [];
    const repoId = await repositoryId(this.db, first.repository);
    if (repoId === null) return versions.map(() => ({ size: 0, platform: null, parents: [], referrers: {} }));
    const digests = [...new Set(versions.map((v) => v.digest))];
    const params = [repoId, ...digests];
    const n = digests.length;
    const own = await this.db.all<{ digest: string; size: number | string }>(FQ.ownSizes(n), params);
    const blobs = await this.db.all<{ digest: string; size: number | string }>(FQ.blobSizes(n), params);
    const parentRows = await this.db.all<{ child: string; id: number; digest: string; content: Buffer }>(FQ.liveParents(n), params);
    const referrerRows = await this.db.all<{
      subject: string;
      id: number;
      digest: string;
      artifact_type: string | null;
      config_media_type: string | null;
    }>(FQ.liveReferrers(n), params);
    const size = new Map<string, number>();
    for (const row of [...own, ...blobs]) size.set(row.digest, (size.get(row.digest) ?? 0) + Number(row.size));
    const parentsOf = groupBy(parentRows, (r) => r.child);
    const referrersOf = groupBy(referrerRows, (r) => r.subject);
    return versions.map((version) => {
      const parentList = [...(parentsOf.get(version.digest) ?? [])].sort(byId);
      let platform: Platform | null = null;
      for (const p of parentList) {
        platform = platformIn(p.content, version.digest);
        if (platform) break;
      }
      const referrers: Record<string, VersionLink[]> = {};
      for (const r of [...(referrersOf.get(version.digest) ?? [])].sort(byId)) {
        const type = r.artifact_type ?? r.config_media_type ?? 'unknown';
        (referrers[type] ??= []).push({ id: r.id, digest: r.digest });
      }
      return {
        size: size.get(version.digest) ?? 0,
        platform,
        parents: parentList.map((p) => ({ id: p.id, digest: p.digest })),
        referrers,
      };
    });
  }

  async delete(repository: string, id: number, options: VersionDeleteScope & ChangeStamp): Promise<number[] | null> {
    return this.db.transaction(async (tx) => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null) return null;
      const row = await tx.get<VersionRow>(V.byId, [id, repoId]);
      if (!row || row.deleted_at !== null) return null;
      const doomed = options.tree ? await treeOf(tx, repoId, row.digest) : new Set([row.digest]);
      for (const digest of doomed) {
        const parents = (await liveParentDigests(tx, repoId, digest)).filter((d) => !doomed.has(d));
        const referrers = (await liveReferrerDigests(tx, repoId, digest)).filter((d) => !doomed.has(d));
        // A signature or SBOM of a live image is untagged, yet part of that image: a cleanup job that deletes
        // every untagged version must not strip it (GHCR loses signatures this way). Asked for by name, it goes.
        const subject = options.detach ? undefined : (await tx.get<{ digest: string }>(V.liveSubject, [repoId, digest]))?.digest;
        const attachedTo = subject !== undefined && !doomed.has(subject) ? subject : null;
        if (parents.length > 0 || referrers.length > 0 || attachedTo !== null) {
          throw new VersionInUse(digest, parents, referrers, attachedTo);
        }
      }
      const ids: number[] = [];
      for (const digest of doomed) {
        await softDelete(tx, repository, repoId, digest, options);
        ids.push(await versionIdOf(tx, repoId, digest));
      }
      return ids.sort((a, b) => a - b);
    });
  }

  async restore(repository: string, id: number, stamp: ChangeStamp): Promise<VersionRestoration | null> {
    return this.db.transaction(async (tx) => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null) return null;
      const row = await tx.get<VersionRow>(V.byId, [id, repoId]);
      if (!row) return null;
      if (row.deleted_at === null) return { restored: [], tagsRestored: [], tagsMoved: [] };
      const returning = await deletedTreeOf(tx, repoId, row.digest, row.deleted_at);
      return restoreAll(tx, repository, repoId, returning, stamp);
    });
  }

  async deleteAll(repository: string, stamp: ChangeStamp): Promise<number> {
    return this.db.transaction(async (tx) => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null) return 0;
      const live = await tx.all<{ digest: string }>(V.liveDigests, [repoId]);
      for (const { digest } of live) await softDelete(tx, repository, repoId, digest, stamp);
      return live.length;
    });
  }

  async restoreDeletedAt(repository: string, deletedAt: number, stamp: ChangeStamp): Promise<VersionRestoration> {
    return this.db.transaction(async (tx) => {
      const repoId = await repositoryId(tx, repository);
      if (repoId === null) return { restored: [], tagsRestored: [], tagsMoved: [] };
      const rows = await tx.all<{ digest: string }>(V.digestsDeletedAt, [repoId, deletedAt]);
      return restoreAll(tx, repository, repoId, new Set(rows.map((r) => r.digest)), stamp);
    });
  }

  /** The tags of live versions and the remembered tags of deleted ones, by digest: two queries for a page. */
  private async tagsOf(repoId: number, rows: readonly VersionRow[]): Promise<Map<string, string[]>> {
    const tags = new Map<string, string[]>();
    const live = [...new Set(rows.filter((r) => r.deleted_at === null).map((r) => r.digest))];
    const deleted = [...new Set(rows.filter((r) => r.deleted_at !== null).map((r) => r.digest))];
    for (const [digests, query] of [
      [live, FQ.tags],
      [deleted, FQ.rememberedTags],
    ] as const) {
      if (digests.length === 0) continue;
      for (const t of await this.db.all<{ digest: string; name: string }>(query(digests.length), [repoId, ...digests])) {
        tags.set(t.digest, [...(tags.get(t.digest) ?? []), t.name]);
      }
    }
    return tags;
  }
}

function toRecord(repository: string, row: VersionRow, tags: string[]): VersionRecord {
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
    tags: [...tags].sort(byteOrder),
  };
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

/**
 * A manifest's soft delete: its tags are remembered for a restore and
 * removed, so they stop resolving and leave the tags list; the row stays
 * (content, references and version id) until GC purges it.
 */
export async function softDelete(
  tx: Queryable,
  repository: string,
  repoId: number,
  digest: string,
  { now, actor }: ChangeStamp,
): Promise<void> {
  await tx.run(METADATA_QUERIES.insertChange, [now, 'version.deleted', repository, digest, null, null, null, 0, actor ?? null]);
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
  { now, actor }: ChangeStamp,
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
    await tx.run(METADATA_QUERIES.insertChange, [now, 'version.restored', repository, digest, null, null, null, 0, actor ?? null]);
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
