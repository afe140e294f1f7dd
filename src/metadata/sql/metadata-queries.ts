/**
 * The metadata index's SQL, one text for both dialects (`?` placeholders).
 * Named here, apart from the store, so the query-plan test
 * (spec/metadata/metadata-query-plans.test.ts) explains exactly what runs.
 */
const MANIFEST_COLUMNS =
  'm.digest, m.media_type, m.size, m.artifact_type, m.config_digest, m.config_media_type, m.subject, m.annotations, m.created_at';

/**
 * A repository holds content while it has a manifest or a linked blob: the catalog and tag listings agree on that.
 * One EXISTS over a UNION ALL, not two OR'ed: PostgreSQL turns OR'ed EXISTS into hashed subplans that read
 * all of manifests and repository_blobs per catalog page (seen in EXPLAIN on 3k repositories); this form
 * stays a per-repository primary-key probe on both databases (spec/metadata/metadata-query-plans.test.ts).
 */
const HAS_CONTENT =
  'EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id AND m.deleted_at IS NULL UNION ALL SELECT 1 FROM repository_blobs l WHERE l.repository_id = r.id)';

export const METADATA_QUERIES = {
  repositoryId: 'SELECT id FROM repositories WHERE name = ?',
  insertRepository: 'INSERT INTO repositories (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
  insertBlob: 'INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING',
  insertLink:
    'INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT (repository_id, digest) DO NOTHING',
  linkedSize: `SELECT b.size FROM repositories r JOIN repository_blobs l ON l.repository_id = r.id
     JOIN blobs b ON b.digest = l.digest WHERE r.name = ? AND l.digest = ?`,
  isLinked: 'SELECT 1 AS one FROM repository_blobs WHERE repository_id = ? AND digest = ?',
  deleteLink: 'DELETE FROM repository_blobs WHERE repository_id = ? AND digest = ?',
  // What still needs a blob or a manifest: live manifests only (a soft-deleted one holds nothing back;
  // its restore checks its references again).
  blobReferrers: `SELECT r.manifest_digest FROM manifest_references r JOIN manifests m
     ON m.repository_id = r.repository_id AND m.digest = r.manifest_digest
     WHERE r.repository_id = ? AND r.kind = 'blob' AND r.digest = ? AND m.deleted_at IS NULL LIMIT 10`,
  manifestReferrers: `SELECT r.manifest_digest FROM manifest_references r JOIN manifests m
     ON m.repository_id = r.repository_id AND m.digest = r.manifest_digest
     WHERE r.repository_id = ? AND r.kind = 'manifest' AND r.digest = ? AND m.deleted_at IS NULL LIMIT 10`,
  hasManifest: 'SELECT 1 AS one FROM manifests WHERE repository_id = ? AND digest = ? AND deleted_at IS NULL',
  // Live versions up to the limit (parameters: repository id, limit): a push's check reads at most `limit` rows.
  countLiveVersions: `SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM manifests WHERE repository_id = ? AND deleted_at IS NULL
     LIMIT ?) AS live`,
  // Parameters: ownerNameRange (src/metadata/owners.ts).
  liveVersionCounts: `SELECT r.name, COUNT(*) AS n FROM repositories r JOIN manifests m ON m.repository_id = r.id
     WHERE (r.name = ? OR (r.name >= ? AND r.name < ?)) AND m.deleted_at IS NULL GROUP BY r.name ORDER BY r.name`,
  insertContent: 'INSERT INTO manifest_contents (digest, content) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING',
  // A push of a soft-deleted digest revives it (same version id); a push with a tag touches updated_at.
  // Parameters: repository, digest, the described columns, created_at, updated_at, and 1 when tagged else 0.
  insertManifest: `INSERT INTO manifests (repository_id, digest, media_type, size, artifact_type, config_digest,
     config_media_type, subject, annotations, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (repository_id, digest) DO UPDATE SET deleted_at = NULL, updated_at = excluded.updated_at
     WHERE manifests.deleted_at IS NOT NULL`,
  insertVersion: 'INSERT INTO manifest_versions (repository_id, digest) VALUES (?, ?) ON CONFLICT (repository_id, digest) DO NOTHING',
  insertReference: `INSERT INTO manifest_references (repository_id, manifest_digest, kind, digest) VALUES (?, ?, ?, ?)
     ON CONFLICT (repository_id, manifest_digest, kind, digest) DO NOTHING`,
  upsertTag: `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`,
  getManifest: `SELECT ${MANIFEST_COLUMNS}, c.content FROM repositories r JOIN manifests m ON m.repository_id = r.id
     JOIN manifest_contents c ON c.digest = m.digest WHERE r.name = ? AND m.digest = ? AND m.deleted_at IS NULL`,
  // Tag, manifest and content in one query: a manifest GET by tag is one round trip (on PostgreSQL, on a
  // loaded 2-core machine, each round trip is a wake-up of the backend; see conformance/bench/README.md).
  // Never cached in-process: another replica may move the tag at any time.
  getTaggedManifest: `SELECT ${MANIFEST_COLUMNS}, c.content FROM repositories r JOIN tags t ON t.repository_id = r.id
     JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest
     JOIN manifest_contents c ON c.digest = m.digest WHERE r.name = ? AND t.name = ? AND m.deleted_at IS NULL`,
  statManifest: `SELECT ${MANIFEST_COLUMNS} FROM repositories r JOIN manifests m ON m.repository_id = r.id
     WHERE r.name = ? AND m.digest = ? AND m.deleted_at IS NULL`,
  taggedDigest: 'SELECT manifest_digest FROM tags WHERE repository_id = ? AND name = ?',
  // The change journal (issue #16). Parameters: at, kind, repository, digest, tag, previous_digest, media_type, new_version,
  // actor.
  insertChange: `INSERT INTO metadata_changes (at, kind, repository, digest, tag, previous_digest, media_type, new_version, actor)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  changes: `SELECT id, at, kind, repository, digest, tag, previous_digest, media_type, new_version, actor FROM metadata_changes
     ORDER BY id LIMIT ?`,
  deleteTag: `DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND name = ?
     RETURNING manifest_digest`,
  resolveTag: 'SELECT t.manifest_digest FROM repositories r JOIN tags t ON t.repository_id = r.id WHERE r.name = ? AND t.name = ?',
  deleteTagOf: `DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND name = ?
     AND manifest_digest = ? RETURNING manifest_digest`,
  // The repository as a scalar subquery, not a join: PostgreSQL then reads the tags in primary-key order
  // from \`last\` on, instead of sorting every tag of the repository (a join loses the order).
  listTags: 'SELECT name FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND name > ? ORDER BY name LIMIT ?',
  hasContent: `SELECT 1 AS one FROM repositories r WHERE r.name = ? AND ${HAS_CONTENT}`,
  listRepositories: `SELECT r.name FROM repositories r WHERE r.name > ? AND ${HAS_CONTENT} ORDER BY r.name LIMIT ?`,
  referrers: `SELECT ${MANIFEST_COLUMNS} FROM repositories r JOIN manifests m ON m.repository_id = r.id
     WHERE r.name = ? AND m.subject = ? AND m.deleted_at IS NULL ORDER BY m.created_at, m.digest`,
} as const;

/**
 * A manifest push on PostgreSQL in one statement, where the portable path (SqlMetadataIndex.putManifest on
 * SQLite) takes one query per step: the repository, each reference's check, the content, the manifest, each
 * reference, the tag — 9 round trips for a one-layer image, 11 with BEGIN and COMMIT. A round trip to the
 * server costs a wake-up of its backend process, which on a busy 2-core machine dominates a push (the
 * 1000-tag bench row: see conformance/bench/README.md). Same checks, same transaction (SERIALIZABLE, retried):
 * nothing is written when a reference is missing, and the missing ones come back as rows. PostgreSQL checks
 * the foreign keys at the end of the statement, so the rows this statement inserts satisfy them.
 * Parameters: $1 repository, $2 created_at, $3 the references as JSON [{kind, digest}], $4 digest, $5 content,
 * $6 media_type, $7 size, $8 artifact_type, $9 config_digest, $10 config_media_type, $11 subject,
 * $12 annotations, $13 tag or null, $14 1 when sparse, $15 1 when the tag is immutable (kept where it points), $16 who pushed (an account name) or null,
 * $17 the most live versions the repository may have (quotas) or null.
 * A soft-deleted manifest pushed again is revived with its version id.
 */
export const PUT_MANIFEST_ON_POSTGRES = `
WITH wanted AS (
  SELECT w.kind, w.digest FROM json_to_recordset($3::json) AS w(kind text, digest text)
), new_repository AS (
  -- Only for a manifest that references nothing (or a sparse one): in a repository that does not exist yet nothing
  -- is linked, so any reference is missing, nothing is written, and no empty repository may be left behind.
  INSERT INTO repositories (name, created_at) SELECT $1::text, $2::bigint WHERE NOT EXISTS (SELECT 1 FROM wanted) OR ($14::int = 1)
  ON CONFLICT (name) DO NOTHING RETURNING id
), repository AS (
  SELECT id FROM new_repository UNION ALL SELECT id FROM repositories WHERE name = $1::text
), missing AS (
  -- A sparse manifest misses nothing: its references are recorded whether present or not.
  SELECT w.kind, w.digest FROM wanted w LEFT JOIN repository r ON true WHERE NOT ($14::int = 1) AND (r.id IS NULL OR NOT CASE w.kind
    WHEN 'blob' THEN EXISTS (SELECT 1 FROM repository_blobs l WHERE l.repository_id = r.id AND l.digest = w.digest)
    ELSE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id AND m.digest = w.digest AND m.deleted_at IS NULL) END)
), previous AS (
  SELECT t.manifest_digest FROM tags t, repository r WHERE t.repository_id = r.id AND t.name = $13::text
), refused AS (
  -- An immutable tag ($15 = 1) naming another manifest already: nothing is written.
  SELECT manifest_digest FROM previous WHERE $15::int = 1 AND manifest_digest <> $4::text
), over_limit AS (
  -- A new live version ($4 not live here yet) where the repository has $17 already: nothing is written. The count
  -- reads at most $17 rows, and nothing without a limit.
  SELECT 1 AS one FROM repository r WHERE $17::int IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id AND m.digest = $4::text AND m.deleted_at IS NULL)
    AND (SELECT COUNT(*) FROM (SELECT 1 FROM manifests m WHERE m.repository_id = r.id AND m.deleted_at IS NULL LIMIT $17::int) AS live) >= $17::int
), blocked AS (
  SELECT 1 AS one FROM missing UNION ALL SELECT 1 FROM refused UNION ALL SELECT 1 FROM over_limit
), content AS (
  INSERT INTO manifest_contents (digest, content) SELECT $4::text, $5::bytea WHERE NOT EXISTS (SELECT 1 FROM blocked)
  ON CONFLICT (digest) DO NOTHING
), manifest AS (
  INSERT INTO manifests (repository_id, digest, media_type, size, artifact_type, config_digest, config_media_type, subject,
    annotations, created_at, updated_at)
  SELECT r.id, $4::text, $6::text, $7::bigint, $8::text, $9::text, $10::text, $11::text, $12::text, $2::bigint, $2::bigint
  FROM repository r WHERE NOT EXISTS (SELECT 1 FROM blocked)
  -- Only a revive writes the row: a tag push of a live manifest leaves it alone, or concurrent pushes of one
  -- image under many tags all update one row and fail to serialize (10,010 tags pushed 8 at a time got 503s).
  ON CONFLICT (repository_id, digest) DO UPDATE SET deleted_at = NULL, updated_at = excluded.updated_at
  WHERE manifests.deleted_at IS NOT NULL
  RETURNING 1 AS written
), version AS (
  INSERT INTO manifest_versions (repository_id, digest)
  SELECT r.id, $4::text FROM repository r WHERE NOT EXISTS (SELECT 1 FROM blocked)
  ON CONFLICT (repository_id, digest) DO NOTHING
), reference AS (
  INSERT INTO manifest_references (repository_id, manifest_digest, kind, digest)
  SELECT r.id, $4::text, w.kind, w.digest FROM repository r, wanted w WHERE NOT EXISTS (SELECT 1 FROM blocked)
  ON CONFLICT (repository_id, manifest_digest, kind, digest) DO NOTHING
), tag AS (
  INSERT INTO tags (repository_id, name, manifest_digest, updated_at)
  SELECT r.id, $13::text, $4::text, $2::bigint FROM repository r WHERE $13::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM blocked)
  ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at
), change AS (
  -- The change journal (issue #16): written by this same statement, so no round trip is added.
  INSERT INTO metadata_changes (at, kind, repository, digest, tag, previous_digest, media_type, new_version, actor)
  SELECT $2::bigint, 'manifest.pushed', $1::text, $4::text, $13::text, (SELECT manifest_digest FROM previous), $6::text,
    CASE WHEN EXISTS (SELECT 1 FROM manifest) THEN 1 ELSE 0 END, $16::text
  WHERE NOT EXISTS (SELECT 1 FROM blocked)
)
-- The references missing (then nothing was written), else one row naming what the tag pointed at before
-- (every part of one statement reads the same snapshot: previous sees the tag as it was).
SELECT kind, digest, NULL::text AS previous FROM missing
UNION ALL SELECT 'refused', NULL, (SELECT manifest_digest FROM refused) WHERE EXISTS (SELECT 1 FROM refused) AND NOT EXISTS (SELECT 1 FROM missing)
UNION ALL SELECT 'over_limit', NULL, NULL WHERE EXISTS (SELECT 1 FROM over_limit) AND NOT EXISTS (SELECT 1 FROM missing)
  AND NOT EXISTS (SELECT 1 FROM refused)
UNION ALL SELECT NULL, NULL, (SELECT manifest_digest FROM previous) WHERE NOT EXISTS (SELECT 1 FROM blocked)`;
