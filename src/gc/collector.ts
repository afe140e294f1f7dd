/**
 * Online garbage collection of blobs (issue #22).
 *
 * DESIGN
 *
 * Garbage. A blob is garbage when no manifest row references it (config, layers: `manifest_references` of kind
 * `blob`, in any repository). Soft-deleted manifests keep their rows, so a version that may still be restored
 * keeps its blobs; past the restore window (BERTH_RESTORE_WINDOW_DAYS) a sweep first purges those manifests for
 * good (their rows, references, tags, versions and, when no repository has it any more, the content). Index
 * children and subjects are manifests, stored in the database: purging is what removes them. A garbage blob
 * loses its links in every repository, its row, and its bytes in the BlobStore.
 *
 * Incremental. Sweeps never walk storage or every blob row. The metadata index keeps `blob_candidates`
 * (digest, since), written in the same transaction as whatever may have made a blob unreferenced: a link
 * (a new upload or mount is unreferenced until a manifest names it), an unlink, a manifest purge. A sweep reads
 * the candidates whose `since` is older than the grace period; one found referenced stops being a candidate
 * (it comes back only when a link, unlink or purge touches it again). Work is in proportion to what changed.
 *
 * Grace period (BERTH_GC_GRACE_SECONDS, default 1 hour). `since` is refreshed by every link, so a blob just
 * uploaded or mounted waits that long for the manifest naming it; so does every blob of a purged manifest.
 *
 * Proof at delete time: deleting is two transactions around the storage delete.
 *   1. beginBlobDeletions, one transaction (for a batch of candidates, each checked as follows): the candidate is still old enough, no manifest row references the
 *      blob and no upload claims it; then every `repository_blobs` link goes and `blobs.deleting_at` is set.
 *      From this commit on, the blob is absent for the registry: HEAD and GET through any repository say
 *      BLOB_UNKNOWN, a mount falls back to an upload, and a manifest naming it is refused MANIFEST_BLOB_UNKNOWN,
 *      because putManifest checks, in its own transaction, that each blob is linked in the repository.
 *   2. The bytes are deleted from the BlobStore.
 *   3. finishBlobDeletions, one transaction: the rows and the candidacies go.
 * Against a push: SQLite runs one writer at a time; PostgreSQL runs both SERIALIZABLE (a conflict retries the
 * loser), so a manifest that references or a link that names the blob and step 1 cannot both commit on what
 * the other changed: either the manifest is in (step 1 then sees the reference and keeps the blob) or the
 * links are gone (the push sees it missing and the client uploads it again).
 * Against an upload of the same digest, whose bytes would land on the object being deleted: an upload claims
 * the digest (claimBlob) BEFORE committing its bytes and releases the claim in the transaction that links it.
 * Step 1 skips a claimed blob; a claim on a blob being deleted is refused until step 3 (the upload waits a
 * moment, then asks the client to retry with 503), so bytes committed under a claim are never deleted by a
 * sweep. A claim left by a dead upload expires after CLAIM_LIFETIME_MS. A link without a claim (a mount) links
 * only a blob whose row exists and is not being deleted.
 * A sweep stopped between steps leaves `deleting_at` set and the candidate: the next sweep finishes it.
 *
 * Reconciliation (rare, `reconcile`): a walk over the BlobStore's listing (an optional driver capability)
 * finds objects no blob row knows (a crash between commit and link) older than the grace period; each is
 * adopted in one transaction as a row being deleted (unless claimed or referenced), then deleted as above.
 *
 * One collector at a time: a lease row in the database (gc_leases), renewed as the sweep goes.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToRequests } from 'node:timers/promises';
import type { Logger } from '../log';
import type { BlobLifecycle, SweepRules } from '../metadata/blob-lifecycle';
import type { BlobStore } from '../storage/blob-store';
import type { CollectorLease } from './collector-lease';
import { CollectionRunning } from './errors';

/** What a run reclaimed (or, dry, would reclaim): storage objects, their bytes, manifests purged, and its time. */
export interface CollectionSummary {
  objects: number;
  bytes: number;
  manifests: number;
  seconds: number;
  dryRun: boolean;
}

export interface CollectionOptions {
  dryRun?: boolean;
  /** Overrides the configured grace period (tests and `berth gc --grace-seconds`). */
  graceSeconds?: number;
  /** Also walk storage for objects no row knows (rare: proportional to the whole store). */
  reconcile?: boolean;
}

export interface CollectorSettings {
  graceSeconds: number;
  restoreWindowDays: number;
  /** Told of every run that reclaimed or purged something, and of every run at all (metrics). */
  onCollected?: (summary: CollectionSummary) => void;
  clock?: () => number;
}

/** A claim older than this belongs to an upload that died between claiming and linking. */
export const CLAIM_LIFETIME_MS = 3_600_000;
/** The lease outlives a stalled collector by at most this; renewed every batch. */
const LEASE_TTL_MS = 120_000;
const BATCH = 500;
/**
 * Blobs marked in one transaction: each is ~7 statements, so the write lock a push waits for on SQLite is held
 * for one batch of them.
 */
const DELETE_BATCH = 100;
/** Storage deletes in flight at once (an S3 DELETE is a round trip each). */
const STORAGE_DELETES_AT_ONCE = 8;
const DAY_MS = 86_400_000;

export class GarbageCollector {
  private readonly clock: () => number;

  constructor(
    private readonly index: BlobLifecycle,
    private readonly blobs: BlobStore,
    private readonly lease: CollectorLease,
    private readonly log: Logger,
    private readonly settings: CollectorSettings,
  ) {
    this.clock = settings.clock ?? Date.now;
  }

  /** One run; CollectionRunning when another collector holds the lease. */
  async collect(options: CollectionOptions = {}): Promise<CollectionSummary> {
    const started = performance.now();
    const holder = randomUUID();
    if (!(await this.lease.acquire(holder, LEASE_TTL_MS, this.clock()))) {
      throw new CollectionRunning('another garbage collection is running; try again when it is done');
    }
    try {
      const now = this.clock();
      const graceMs = (options.graceSeconds ?? this.settings.graceSeconds) * 1000;
      const rules: SweepRules = { candidatesBefore: now - graceMs, claimsBefore: now - CLAIM_LIFETIME_MS, now };
      const deletedBefore = now - this.settings.restoreWindowDays * DAY_MS;
      const counts = options.dryRun
        ? await this.estimate(rules, deletedBefore)
        : await this.sweep(rules, deletedBefore, options.reconcile === true, holder);
      const summary = { ...counts, seconds: round((performance.now() - started) / 1000), dryRun: options.dryRun === true };
      this.log.info(summary, options.dryRun ? 'garbage collection (dry run)' : 'garbage collection done');
      this.settings.onCollected?.(summary);
      return summary;
    } finally {
      await this.lease.release(holder);
    }
  }

  private async estimate(rules: SweepRules, deletedBefore: number): Promise<Counts> {
    const estimate = await this.index.garbageEstimate(rules, deletedBefore);
    return { objects: estimate.blobs, bytes: estimate.bytes, manifests: estimate.manifests };
  }

  private async sweep(rules: SweepRules, deletedBefore: number, reconcile: boolean, holder: string): Promise<Counts> {
    const counts: Counts = { objects: 0, bytes: 0, manifests: 0 };
    for (;;) {
      const purged = await this.index.purgeDeletedManifests(deletedBefore, BATCH, rules.now);
      counts.manifests += purged;
      await this.renew(holder);
      if (purged < BATCH) break;
    }
    let after = '';
    for (;;) {
      const digests = await this.index.blobCandidates(rules.candidatesBefore, BATCH, after);
      const unreferenced = await this.index.dropReferencedCandidates(digests);
      for (let at = 0; at < unreferenced.length; at += DELETE_BATCH) {
        const deleting = await this.index.beginBlobDeletions(unreferenced.slice(at, at + DELETE_BATCH), rules);
        await this.remove(deleting, counts);
      }
      await this.renew(holder);
      if (digests.length < BATCH) break;
      after = digests[digests.length - 1] ?? after;
    }
    if (reconcile) await this.reconcile(rules, holder, counts);
    return counts;
  }

  /** The full walk: objects in storage that no row knows, older than the grace period. */
  private async reconcile(rules: SweepRules, holder: string, counts: Counts): Promise<void> {
    if (!this.blobs.listBlobs) {
      this.log.warn('this blob storage cannot list its blobs: reconciliation skipped');
      return;
    }
    for await (const page of this.blobs.listBlobs()) {
      const old = page.filter((blob) => blob.modifiedAt <= rules.candidatesBefore);
      const known = await this.index.knownBlobs(old.map((blob) => blob.digest));
      for (const blob of old) {
        if (known.has(blob.digest)) continue;
        if (await this.index.adoptOrphanBlob(blob.digest, blob.size, rules)) await this.remove(new Map([[blob.digest, blob.size]]), counts);
      }
      await this.renew(holder);
    }
  }

  /** Deletes the bytes of blobs marked as being deleted (a few at a time), then their rows in one transaction. */
  private async remove(deleting: Map<string, number>, counts: Counts): Promise<void> {
    const digests = [...deleting.keys()];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(STORAGE_DELETES_AT_ONCE, digests.length) }, async () => {
        for (let i = next++; i < digests.length; i = next++) await this.blobs.delete(digests[i] as string);
      }),
    );
    await this.index.finishBlobDeletions(digests);
    for (const size of deleting.values()) {
      counts.objects += 1;
      counts.bytes += size;
    }
  }

  /**
   * Between batches: requests get their turn (on SQLite every query completes synchronously, so a sweep that
   * never waited on I/O would hold the event loop for its whole length), and the lease is renewed.
   */
  private async renew(holder: string): Promise<void> {
    await yieldToRequests();
    if (!(await this.lease.acquire(holder, LEASE_TTL_MS, this.clock()))) {
      throw new CollectionRunning('the garbage collection lease was lost (the sweep stalled past it); stopping');
    }
  }
}

interface Counts {
  objects: number;
  bytes: number;
  manifests: number;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
