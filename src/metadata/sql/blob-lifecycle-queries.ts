/** The garbage collector's SQL over the metadata index's tables (migration 4), one text for both dialects. */
export const BLOB_LIFECYCLE_QUERIES = {
  blobState: 'SELECT size, deleting_at FROM blobs WHERE digest = ?',
  claim: `INSERT INTO blob_claims (digest, claim, at) VALUES (?, ?, ?)
     ON CONFLICT (digest, claim) DO UPDATE SET at = excluded.at`,
  releaseClaim: 'DELETE FROM blob_claims WHERE digest = ? AND claim = ?',
  dropAbandonedClaims: 'DELETE FROM blob_claims WHERE digest = ? AND at < ?',
  isClaimed: 'SELECT 1 AS one FROM blob_claims WHERE digest = ? LIMIT 1',
  // A link made or removed, a manifest purged: the blob may be garbage from now on.
  markCandidate: `INSERT INTO blob_candidates (digest, since) VALUES (?, ?)
     ON CONFLICT (digest) DO UPDATE SET since = excluded.since`,
  candidateSince: 'SELECT since FROM blob_candidates WHERE digest = ?',
  dropCandidate: 'DELETE FROM blob_candidates WHERE digest = ?',
  /** `(?, …)` is the batch: see dropReferencedCandidates. */
  dropReferencedCandidates: (batch: number) => `DELETE FROM blob_candidates WHERE digest IN (${Array(batch).fill('?').join(', ')})
     AND EXISTS (SELECT 1 FROM manifest_references r WHERE r.kind = 'blob' AND r.digest = blob_candidates.digest)
     AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.digest = blob_candidates.digest AND b.deleting_at IS NOT NULL)
     RETURNING digest`,
  // Half-deleted blobs (a sweep that stopped between its two transactions) come back whatever their since.
  candidates: `SELECT c.digest FROM blob_candidates c WHERE c.digest > ? AND (c.since <= ?
     OR EXISTS (SELECT 1 FROM blobs b WHERE b.digest = c.digest AND b.deleting_at IS NOT NULL)) ORDER BY c.digest LIMIT ?`,
  // Any manifest row counts, soft-deleted ones too: they may be restored until purged.
  isReferenced: "SELECT 1 AS one FROM manifest_references WHERE kind = 'blob' AND digest = ? LIMIT 1",
  unlinkEverywhere: 'DELETE FROM repository_blobs WHERE digest = ?',
  markDeleting: 'UPDATE blobs SET deleting_at = ? WHERE digest = ?',
  forgetBlob: 'DELETE FROM blobs WHERE digest = ? AND deleting_at IS NOT NULL',
  insertDeletingBlob: 'INSERT INTO blobs (digest, size, created_at, deleting_at) VALUES (?, ?, ?, ?)',
  purgeable: 'SELECT repository_id, digest FROM manifests WHERE deleted_at IS NOT NULL AND deleted_at < ? LIMIT ?',
  candidatesOfManifest: `INSERT INTO blob_candidates (digest, since)
     SELECT digest, ? FROM manifest_references WHERE repository_id = ? AND manifest_digest = ? AND kind = 'blob'
     ON CONFLICT (digest) DO UPDATE SET since = excluded.since`,
  // Conditional: a push that revived the manifest since it was read keeps it.
  purgeManifest: 'DELETE FROM manifests WHERE repository_id = ? AND digest = ? AND deleted_at IS NOT NULL AND deleted_at < ?',
  purgeContent: 'DELETE FROM manifest_contents WHERE digest = ? AND NOT EXISTS (SELECT 1 FROM manifests WHERE digest = ?)',
  countPurgeable: 'SELECT COUNT(*) AS n FROM manifests WHERE deleted_at IS NOT NULL AND deleted_at < ?',
  estimate: `SELECT COUNT(*) AS n, COALESCE(SUM(b.size), 0) AS bytes FROM blob_candidates c JOIN blobs b ON b.digest = c.digest
     WHERE (b.deleting_at IS NOT NULL OR (c.since <= ?
       AND NOT EXISTS (SELECT 1 FROM manifest_references r WHERE r.kind = 'blob' AND r.digest = c.digest)
       AND NOT EXISTS (SELECT 1 FROM blob_claims k WHERE k.digest = c.digest AND k.at >= ?)))`,
} as const;
