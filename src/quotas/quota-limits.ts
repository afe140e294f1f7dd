/**
 * Quotas (issue #22): storage bytes per owner, and a maximum number of versions per package.
 *
 * WHAT IS COUNTED
 * - An owner is the first segment of a repository's name (`acme` owns `acme/api` and `acme/tools/cli`; a name
 *   without a slash owns itself): the user or organisation namespace the auth model (src/auth/) already uses.
 * - The bytes an owner uses are the sizes of the distinct blobs linked (`repository_blobs`) to at least one of its
 *   repositories: a layer shared by ten of acme's repositories counts once for acme, and once more for any other
 *   owner that links it too. Manifests (kilobytes, in the database) are not counted.
 * - Soft delete and restore of a version change no link (the version's blobs stay linked so it can be restored),
 *   so they change no usage. The bytes go when the blob is unlinked: a blob DELETE, or GC's sweep
 *   (beginBlobDeletions), which unlinks a blob no manifest row references, once the soft-deleted manifests that did
 *   have been purged. So a soft delete frees space after purge + sweep, not at once; the API shows usage as it is.
 * - A version is a live (not soft-deleted) manifest of the package, tagged or not, an index's children included;
 *   the limit is on live versions, so deleting one makes room. Restoring a version is not refused over the limit
 *   (an admin undoing a mistake must not be blocked by it); the next push is.
 *
 * HOW IT STAYS EXACT: a counter changed in the same transaction as the link that changes it.
 * - The metadata index keeps `owner_usage(owner, bytes)` (its own table: it must change in the link's own
 *   transaction, which only the index's store can do). Every statement that adds or removes a link updates it in
 *   that transaction: linkBlob adds the blob's size when no other repository of the owner links it yet; unlinkBlob
 *   subtracts it when the removed link was the owner's last; the sweep subtracts it from every owner that linked
 *   it. SQLite serialises writers; PostgreSQL runs them SERIALIZABLE and retries the loser, so two links racing
 *   for the same owner cannot both read "not linked yet" or both pass the limit.
 * - Derived usage (one SUM over the owner's links) was the alternative: nothing to maintain, but O(owner's blobs)
 *   per blob commit, and the check still has to run inside the link's transaction. The counter costs O(1).
 * - Cost per blob commit: +1 statement (does another repository of the owner link it? an index probe on
 *   repository_blobs_by_digest), +1 (the counter upsert) when the blob is new to the owner, +1 (read the counter)
 *   only when the owner has a limit; with a limit, +2 more before the bytes are committed (the same probe and read,
 *   outside the transaction: the early refusal that keeps the session). The limits themselves: one primary-key
 *   lookup per owner at most every LIMITS_TTL_MS per process (QuotaPolicy), usually none. A blob DELETE: +2. A sweep: +1 per blob and +1 per owner linking it. A manifest
 *   push: none for bytes (it links nothing); on PostgreSQL it stays ONE statement, the version count being one
 *   more CTE of it, bounded by the limit (it counts at most `limit` rows) and skipped when there is no limit.
 * - `berth quota verify` and the spec recompute usage from scratch (one query over repository_blobs and blobs)
 *   and compare it with the counter.
 *
 * WHERE THE CHECKS RUN (the registry consults a StorageQuota, wired in src/composition-root.ts; `registry/`
 * never imports this module)
 * - Blob upload commit: before the staged bytes are committed, a check (the owner's counter, the blob's size when
 *   new to the owner) refuses with DENIED: "storage quota of acme exceeded: N bytes used, M allowed, this blob
 *   needs K more". The session and its staged bytes stay, so the same PUT succeeds once the limit is raised. The
 *   link's transaction checks again (the exact check: a concurrent push may have used the room since); refused
 *   there, nothing is linked and the committed bytes are an orphan for GC.
 * - Cross-repository mount: the same check in the link's transaction; refused, the client gets an upload session.
 * - Manifest push: refused with DENIED, before anything is written, when it would add a live version to a package
 *   that has `maxVersionsPerPackage` already (checked in the push's own transaction/statement). A manifest push
 *   links no blob, so it cannot push the owner's bytes over: its blobs were counted when they were linked.
 *
 * LIMITS: per owner (user or organisation) in this module's store (`quota_limits`), else the defaults from the
 * configuration (BERTH_QUOTA_BYTES, BERTH_QUOTA_VERSIONS_PER_PACKAGE; unset: unlimited). A process trusts the limits
 * it read for LIMITS_TTL_MS; a change made through it is seen at once.
 */

/** An owner's limits; null: unlimited (or, stored, "use the default"). */
export interface QuotaLimits {
  maxBytes: number | null;
  maxVersionsPerPackage: number | null;
}

/** The limits stored for one owner, overriding the defaults where not null. */
export interface StoredQuotaLimits extends QuotaLimits {
  owner: string;
  updatedAt: number;
}

/** The limits' storage (QUOTA_MIGRATIONS). */
export interface QuotaLimitStore {
  /** Replaces the owner's limits (null fields fall back to the defaults). */
  set(owner: string, limits: QuotaLimits, now: number): Promise<StoredQuotaLimits>;
  get(owner: string): Promise<StoredQuotaLimits | null>;
  /** Forgets the owner's limits: the defaults apply again. False when none were stored. */
  remove(owner: string): Promise<boolean>;
}
