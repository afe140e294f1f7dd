/**
 * The SQL of versions and soft deletes, one text for both dialects. Each
 * lookup has an index (spec/metadata/metadata-query-plans.test.ts):
 * manifest_versions_by_repository for pages, the primary keys, tags_by_manifest,
 * manifest_references_by_target for parents and manifests_by_subject for referrers.
 */
const VERSION_COLUMNS = `v.id, v.digest, m.media_type, m.artifact_type, m.config_media_type, m.subject, m.created_at,
  m.updated_at, m.deleted_at`;

const VERSION_FROM = 'manifest_versions v JOIN manifests m ON m.repository_id = v.repository_id AND m.digest = v.digest';

/** Conditions a version list may add, each over `v` and `m`, each with its parameters. */
export const VERSION_FILTERS = {
  active: 'm.deleted_at IS NULL',
  // Unary plus: not a lookup in manifests_deleted (GC's index, across repositories), which would then sort
  // the repository's deleted versions; the page walks manifest_versions_by_repository newest first instead.
  deleted: '+m.deleted_at IS NOT NULL',
  digest: 'v.digest = ?',
  olderThan: 'v.id < ?',
  hasTags: 'EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = v.repository_id AND t.manifest_digest = v.digest)',
  hadTags: 'EXISTS (SELECT 1 FROM deleted_tags t WHERE t.repository_id = v.repository_id AND t.manifest_digest = v.digest)',
  inLiveIndex: `EXISTS (SELECT 1 FROM manifest_references r JOIN manifests p ON p.repository_id = r.repository_id
     AND p.digest = r.manifest_digest WHERE r.repository_id = v.repository_id AND r.kind = 'manifest' AND r.digest = v.digest
     AND p.deleted_at IS NULL)`,
  hasLiveReferrers: `EXISTS (SELECT 1 FROM manifests s WHERE s.repository_id = v.repository_id AND s.subject = v.digest
     AND s.deleted_at IS NULL)`,
  hasLiveSubject: `(m.subject IS NOT NULL AND EXISTS (SELECT 1 FROM manifests j WHERE j.repository_id = v.repository_id
     AND j.digest = m.subject AND j.deleted_at IS NULL))`,
} as const;

/** `(?, ?, …)` for an IN list of `n` values (n ≥ 1; a page holds at most 100). */
const inList = (n: number) => `(${Array.from({ length: n }, () => '?').join(', ')})`;

/** The facts of a page of versions, each query over the whole page (parameters: repository id, then the digests). */
export const VERSION_FACT_QUERIES = {
  tags: (n: number) => `SELECT manifest_digest AS digest, name FROM tags WHERE repository_id = ? AND manifest_digest IN ${inList(n)}`,
  rememberedTags: (n: number) =>
    `SELECT manifest_digest AS digest, name FROM deleted_tags WHERE repository_id = ? AND manifest_digest IN ${inList(n)}`,
  ownSizes: (n: number) => `SELECT digest, size FROM manifests WHERE repository_id = ? AND digest IN ${inList(n)}`,
  /** One row per blob a version references (summed by the caller: a GROUP BY would add a sort step to the plan). */
  blobSizes: (n: number) => `SELECT r.manifest_digest AS digest, b.size FROM manifest_references r
     JOIN blobs b ON b.digest = r.digest WHERE r.repository_id = ? AND r.kind = 'blob' AND r.manifest_digest IN ${inList(n)}`,
  liveParents: (n: number) => `SELECT r.digest AS child, v.id, p.digest, c.content FROM manifest_references r
     JOIN manifests p ON p.repository_id = r.repository_id AND p.digest = r.manifest_digest
     JOIN manifest_versions v ON v.repository_id = p.repository_id AND v.digest = p.digest
     JOIN manifest_contents c ON c.digest = p.digest
     WHERE r.repository_id = ? AND r.kind = 'manifest' AND p.deleted_at IS NULL AND r.digest IN ${inList(n)}`,
  liveReferrers: (n: number) => `SELECT m.subject, v.id, m.digest, m.artifact_type, m.config_media_type FROM manifests m
     JOIN manifest_versions v ON v.repository_id = m.repository_id AND v.digest = m.digest
     WHERE m.repository_id = ? AND m.deleted_at IS NULL AND m.subject IN ${inList(n)}`,
} as const;

export const VERSION_QUERIES = {
  /**
   * Parameters: repository id, the filters' parameters, limit, offset. Unordered when a digest picks the
   * one row (PostgreSQL would add a sort step even for the one row a unique key finds).
   */
  page: (where: string, ordered = true) =>
    `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM} WHERE v.repository_id = ?${where}${ordered ? ' ORDER BY v.id DESC' : ''} LIMIT ? OFFSET ?`,
  count: (where: string) => `SELECT COUNT(*) AS total FROM ${VERSION_FROM} WHERE v.repository_id = ?${where}`,
  byId: `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM} WHERE v.id = ? AND v.repository_id = ?`,
  /** Versions by digest with their live manifests; `?` after `IN (` is one placeholder per digest (pushedVersions). */
  pushedVersions: (digests: number) => `SELECT v.id AS version_id, v.digest AS version_digest, m.deleted_at,
       m.digest, m.media_type, m.size, m.artifact_type, m.config_digest, m.config_media_type, m.subject, m.annotations,
       m.created_at, c.content
     FROM repositories r JOIN manifest_versions v ON v.repository_id = r.id
       JOIN manifests m ON m.repository_id = v.repository_id AND m.digest = v.digest
       LEFT JOIN manifest_contents c ON c.digest = m.digest
     WHERE r.name = ? AND v.digest IN (${Array.from({ length: digests }, () => '?').join(', ')})`,
  byDigest: `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM} WHERE v.repository_id = ? AND v.digest = ?`,
  rememberedTags: 'SELECT name FROM deleted_tags WHERE repository_id = ? AND manifest_digest = ?',
  liveParents: `SELECT v.id, p.digest, c.content FROM manifest_references r
     JOIN manifests p ON p.repository_id = r.repository_id AND p.digest = r.manifest_digest
     JOIN manifest_versions v ON v.repository_id = p.repository_id AND v.digest = p.digest
     JOIN manifest_contents c ON c.digest = p.digest
     WHERE r.repository_id = ? AND r.kind = 'manifest' AND r.digest = ? AND p.deleted_at IS NULL`,
  liveReferrers: `SELECT v.id, m.digest, m.artifact_type, m.config_media_type FROM manifests m
     JOIN manifest_versions v ON v.repository_id = m.repository_id AND v.digest = m.digest
     WHERE m.repository_id = ? AND m.subject = ? AND m.deleted_at IS NULL`,
  /** Referrers deleted in the same operation (same instant) as their subject: a tree restore brings them back. */
  referrersDeletedAt: `SELECT m.digest FROM manifests m WHERE m.repository_id = ? AND m.subject = ? AND m.deleted_at = ?`,
  references: 'SELECT kind, digest FROM manifest_references WHERE repository_id = ? AND manifest_digest = ?',
  manifestState: 'SELECT deleted_at FROM manifests WHERE repository_id = ? AND digest = ?',
  /** The manifest's subject, when that subject is live: a signature or SBOM still attached to its image. */
  liveSubject: `SELECT m.subject AS digest FROM manifests m JOIN manifests j ON j.repository_id = m.repository_id AND j.digest = m.subject
     WHERE m.repository_id = ? AND m.digest = ? AND j.deleted_at IS NULL`,
  liveDigests: 'SELECT digest FROM manifests WHERE repository_id = ? AND deleted_at IS NULL',
  digestsDeletedAt: 'SELECT digest FROM manifests WHERE repository_id = ? AND deleted_at = ?',
  forgetTags: 'DELETE FROM deleted_tags WHERE repository_id = ? AND manifest_digest = ?',
  rememberTags: `INSERT INTO deleted_tags (repository_id, manifest_digest, name, deleted_at)
     SELECT repository_id, manifest_digest, name, ? FROM tags WHERE repository_id = ? AND manifest_digest = ?`,
  dropTags: 'DELETE FROM tags WHERE repository_id = ? AND manifest_digest = ?',
  markDeleted: 'UPDATE manifests SET deleted_at = ?, updated_at = ? WHERE repository_id = ? AND digest = ?',
  markRestored: 'UPDATE manifests SET deleted_at = NULL, updated_at = ? WHERE repository_id = ? AND digest = ?',
  tagTarget: 'SELECT manifest_digest FROM tags WHERE repository_id = ? AND name = ?',
  insertTag: 'INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?)',
  versionId: 'SELECT id FROM manifest_versions WHERE repository_id = ? AND digest = ?',
} as const;
