import type { Database, Queryable } from '../../persistence/database';
import type { BlobLifecycle, GarbageEstimate, SweepRules } from '../blob-lifecycle';
import { BLOB_LIFECYCLE_QUERIES as G } from './blob-lifecycle-queries';
import { releaseEverywhere } from './owner-usage';

/** claimBlob's check and insert as one statement: no claim while a sweep is deleting the blob. */
const CLAIM_ON_POSTGRES = `
INSERT INTO blob_claims (digest, claim, at)
SELECT $1::text, $2::text, $3::bigint
WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE digest = $1::text AND deleting_at IS NOT NULL)
ON CONFLICT (digest, claim) DO UPDATE SET at = excluded.at
RETURNING 1 AS claimed`;

interface BlobState {
  size: number | string;
  deleting_at: number | string | null;
}

/**
 * Garbage collection over the metadata index's tables (the part of SqlMetadataIndex issue #22 added). Each
 * step is one transaction; on PostgreSQL they run SERIALIZABLE, so a sweep's check that nothing references
 * or claims a blob and a push's link or reference to it cannot both commit.
 */
export class SqlBlobLifecycle implements BlobLifecycle {
  constructor(private readonly db: Database) {}

  async claimBlob(digest: string, claim: string, now: number): Promise<boolean> {
    // On PostgreSQL one SERIALIZABLE statement (one round trip where BEGIN, the check, the insert and COMMIT took
    // four): 36 concurrent pushes over three replicas, beside the full jest suite, waited past the pool's 2 s
    // connection bound with the four.
    if (this.db.dialect === 'postgres') return (await this.db.allInOwnTransaction(CLAIM_ON_POSTGRES, [digest, claim, now])).length > 0;
    return this.db.transaction(async (tx) => {
      const state = await tx.get<BlobState>(G.blobState, [digest]);
      if (state && state.deleting_at !== null) return false;
      await tx.run(G.claim, [digest, claim, now]);
      return true;
    });
  }

  async blobCandidates(before: number, limit: number, after: string): Promise<string[]> {
    return (await this.db.all<{ digest: string }>(G.candidates, [after, before, limit])).map((r) => r.digest);
  }

  async beginBlobDeletions(digests: readonly string[], rules: SweepRules): Promise<Map<string, number>> {
    if (digests.length === 0) return new Map();
    return this.db.transaction(async (tx) => {
      const deleting = new Map<string, number>();
      for (const digest of digests) {
        const size = await beginDeletion(tx, digest, rules);
        if (size !== null) deleting.set(digest, size);
      }
      return deleting;
    });
  }

  async dropReferencedCandidates(digests: readonly string[]): Promise<string[]> {
    if (digests.length === 0) return [];
    // In a transaction: SERIALIZABLE on PostgreSQL, so a purge that removes the reference and renews the
    // candidacy meanwhile makes one of the two retry, and no unreferenced blob loses its candidacy.
    const dropped = await this.db.transaction((tx) => tx.all<{ digest: string }>(G.dropReferencedCandidates(digests.length), [...digests]));
    const gone = new Set(dropped.map((r) => r.digest));
    return digests.filter((digest) => !gone.has(digest));
  }

  async finishBlobDeletions(digests: readonly string[]): Promise<void> {
    if (digests.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const digest of digests) {
        await tx.run(G.forgetBlob, [digest]);
        await tx.run(G.dropCandidate, [digest]);
      }
    });
  }

  async purgeDeletedManifests(deletedBefore: number, limit: number, now: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.all<{ repository_id: number; digest: string }>(G.purgeable, [deletedBefore, limit]);
      let purged = 0;
      for (const { repository_id: repoId, digest } of rows) {
        await tx.run(G.candidatesOfManifest, [now, repoId, digest]);
        purged += (await tx.run(G.purgeManifest, [repoId, digest, deletedBefore])).changes;
        await tx.run(G.purgeContent, [digest, digest]);
      }
      return purged;
    });
  }

  async knownBlobs(digests: readonly string[]): Promise<Set<string>> {
    const known = new Set<string>();
    for (let at = 0; at < digests.length; at += 500) {
      const batch = digests.slice(at, at + 500);
      const rows = await this.db.all<{ digest: string }>(
        `SELECT digest FROM blobs WHERE digest IN (${batch.map(() => '?').join(', ')})`,
        batch,
      );
      for (const row of rows) known.add(row.digest);
    }
    return known;
  }

  async adoptOrphanBlob(digest: string, size: number, rules: SweepRules): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if (await tx.get(G.blobState, [digest])) return false;
      if (await tx.get(G.isReferenced, [digest])) return false;
      await tx.run(G.dropAbandonedClaims, [digest, rules.claimsBefore]);
      if (await tx.get(G.isClaimed, [digest])) return false;
      // A row in the deleting state first: from here a new upload of the digest waits for the sweep.
      await tx.run(G.insertDeletingBlob, [digest, size, rules.now, rules.now]);
      await tx.run(G.markCandidate, [digest, rules.now]);
      return true;
    });
  }

  async garbageEstimate(rules: SweepRules, deletedBefore: number): Promise<GarbageEstimate> {
    const blobs = await this.db.get<{ n: number | string; bytes: number | string }>(G.estimate, [
      rules.candidatesBefore,
      rules.claimsBefore,
    ]);
    const manifests = await this.db.get<{ n: number | string }>(G.countPurgeable, [deletedBefore]);
    return { blobs: Number(blobs?.n ?? 0), bytes: Number(blobs?.bytes ?? 0), manifests: Number(manifests?.n ?? 0) };
  }
}

/** beginBlobDeletions for one candidate, inside the batch's transaction: the size when it is to be deleted. */
async function beginDeletion(tx: Queryable, digest: string, rules: SweepRules): Promise<number | null> {
  const candidate = await tx.get<{ since: number | string }>(G.candidateSince, [digest]);
  if (!candidate) return null;
  const state = await tx.get<BlobState>(G.blobState, [digest]);
  if (!state) {
    await tx.run(G.dropCandidate, [digest]);
    return null;
  }
  if (state.deleting_at !== null) return Number(state.size);
  if (Number(candidate.since) > rules.candidatesBefore) return null;
  if (await tx.get(G.isReferenced, [digest])) {
    await tx.run(G.dropCandidate, [digest]);
    return null;
  }
  await tx.run(G.dropAbandonedClaims, [digest, rules.claimsBefore]);
  if (await tx.get(G.isClaimed, [digest])) return null;
  // Every owner linking it stops paying for it, in the unlink's own transaction (src/quotas/quota-limits.ts).
  await releaseEverywhere(tx, digest, Number(state.size));
  await tx.run(G.unlinkEverywhere, [digest]);
  await tx.run(G.markDeleting, [rules.now, digest]);
  return Number(state.size);
}
