import type { Queryable } from '../../persistence/database';
import { ownerNameRange, ownerOf } from '../owners';

/** Of the owner's repositories: `(r.name = ? OR (r.name >= ? AND r.name < ?))`, with ownerNameRange's parameters. */
const OF_OWNER = '(r.name = ? OR (r.name >= ? AND r.name < ?))';

/**
 * The owner_usage counter's SQL (metadata migration 6; design: src/quotas/quota-limits.ts), one text for both
 * dialects. Every change to repository_blobs changes the counter in the same transaction (helpers below).
 */
export const OWNER_USAGE_QUERIES = {
  // Parameters: digest, then ownerNameRange. Served by repository_blobs_by_digest: a probe per repository linking it.
  ownerLinks: `SELECT 1 AS one FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id
     WHERE l.digest = ? AND ${OF_OWNER} LIMIT 1`,
  usage: 'SELECT bytes FROM owner_usage WHERE owner = ?',
  add: `INSERT INTO owner_usage (owner, bytes) VALUES (?, ?)
     ON CONFLICT (owner) DO UPDATE SET bytes = owner_usage.bytes + excluded.bytes`,
  subtract: 'UPDATE owner_usage SET bytes = bytes - ? WHERE owner = ?',
  linkingRepositories: `SELECT r.name FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id WHERE l.digest = ?`,
  // From scratch, over the rows the counter summarises (what `berth quota verify` and the spec compare it with).
  recompute: `SELECT COALESCE(SUM(b.size), 0) AS bytes FROM blobs b WHERE b.digest IN (
     SELECT l.digest FROM repositories r JOIN repository_blobs l ON l.repository_id = r.id WHERE ${OF_OWNER})`,
} as const;

const U = OWNER_USAGE_QUERIES;

/** Whether a repository of the owner links the blob. */
export async function ownerLinks(tx: Queryable, owner: string, digest: string): Promise<boolean> {
  return (await tx.get(U.ownerLinks, [digest, ...ownerNameRange(owner)])) !== undefined;
}

export async function ownerUsage(tx: Queryable, owner: string): Promise<number> {
  return Number((await tx.get<{ bytes: number | string }>(U.usage, [owner]))?.bytes ?? 0);
}

export async function addUsage(tx: Queryable, owner: string, bytes: number): Promise<void> {
  await tx.run(U.add, [owner, bytes]);
}

/** After a link was removed: the owner stops paying for the blob when no other repository of it links it. */
export async function releaseIfLast(tx: Queryable, repository: string, digest: string, size: number): Promise<void> {
  const owner = ownerOf(repository);
  if (!(await ownerLinks(tx, owner, digest))) await tx.run(U.subtract, [size, owner]);
}

/** Before every link of the blob goes (a sweep): each owner linking it stops paying for it. */
export async function releaseEverywhere(tx: Queryable, digest: string, size: number): Promise<void> {
  const rows = await tx.all<{ name: string }>(U.linkingRepositories, [digest]);
  for (const owner of new Set(rows.map((r) => ownerOf(r.name)))) await tx.run(U.subtract, [size, owner]);
}

export async function recomputeUsage(tx: Queryable, owner: string): Promise<number> {
  return Number((await tx.get<{ bytes: number | string }>(U.recompute, ownerNameRange(owner)))?.bytes ?? 0);
}
