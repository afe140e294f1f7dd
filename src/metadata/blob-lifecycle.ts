/**
 * The metadata index's side of garbage collection (issue #22; the protocol is described at the top of
 * src/gc/collector.ts). Times are milliseconds since the epoch, passed in so tests and the CLI pick the clock.
 */
export interface BlobLifecycle {
  /**
   * Before an upload commits bytes under `digest`: records the claim, which no sweep deletes past while it is
   * younger than the claim lifetime. False while a sweep is deleting the blob (the caller retries in a moment).
   */
  claimBlob(digest: string, claim: string, now: number): Promise<boolean>;
  /** Candidate digests after `after` (byte order) whose candidacy is at or before `before`, or half-deleted. */
  blobCandidates(before: number, limit: number, after: string): Promise<string[]>;
  /**
   * In one transaction, for each of these candidates: one still unreferenced (by any manifest row, live or
   * restorable), unclaimed, and a candidate since at or before `rules.candidatesBefore` loses its links and is
   * marked as being deleted; its size is in the answer. A referenced one stops being a candidate. Digests not in
   * the answer: nothing to delete (now). One transaction for the batch, not one each: on SQLite, beside four
   * clients pushing, a sweep deleting 2,000 blobs one transaction (two, with finishing) each took 55 s.
   */
  beginBlobDeletions(digests: readonly string[], rules: SweepRules): Promise<Map<string, number>>;
  /**
   * Of these candidates, those a manifest row references (and not half-deleted) stop being candidates, in one
   * statement; returns the ones left, for beginBlobDeletions. What beginBlobDeletions does to a referenced
   * candidate, for a batch: most candidates of a sweep are referenced (a pushed layer is a candidate until its
   * manifest comes), and one transaction each made a sweep over 100k candidates take minutes.
   */
  dropReferencedCandidates(digests: readonly string[]): Promise<string[]>;
  /** After the bytes are gone: the blobs' rows and candidacies go, in one transaction. */
  finishBlobDeletions(digests: readonly string[]): Promise<void>;
  /** Removes for good up to `limit` manifests soft-deleted before `deletedBefore`; their blobs become candidates. */
  purgeDeletedManifests(deletedBefore: number, limit: number, now: number): Promise<number>;
  /** Of these digests, those a blob row knows (the full-walk reconciliation's cheap first check). */
  knownBlobs(digests: readonly string[]): Promise<Set<string>>;
  /**
   * A stored object no row knows (a crash between commit and link): marked as being deleted unless claimed or
   * referenced; true when the caller should delete its bytes and then call finishBlobDeletions.
   */
  adoptOrphanBlob(digest: string, size: number, rules: SweepRules): Promise<boolean>;
  /** What a sweep with these rules would delete now, without deleting: candidates only, and manifests to purge. */
  garbageEstimate(rules: SweepRules, deletedBefore: number): Promise<GarbageEstimate>;
}

export interface SweepRules {
  /** Candidates since after this are within the grace period. */
  candidatesBefore: number;
  /** Claims taken before this are abandoned (their upload died). */
  claimsBefore: number;
  now: number;
}

export interface GarbageEstimate {
  blobs: number;
  bytes: number;
  manifests: number;
}
