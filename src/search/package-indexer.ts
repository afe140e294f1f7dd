import type { AuditEvent } from '../audit/audit-log';
import type { Logger } from '../log';
import type { PackageCatalog } from './package-catalog';
import type { PackageDocuments } from './package-documents';
import type { SearchIndex } from './search-index';

/**
 * Keeps the search index in step with packages. Changes only schedule a
 * package (a push never waits on indexing: registry event listeners are
 * awaited before the client's 201); one package is (re)indexed at a time,
 * and a package scheduled again while queued is indexed once. What is lost
 * (a crash between a commit and its indexing, several processes on one
 * database) `reconcile` heals: run at start and by `berth admin reindex`.
 */
export class PackageIndexer {
  private readonly queued = new Set<string>();
  private draining: Promise<void> | null = null;
  /** Lookups of the packages a change touches, before they are scheduled: `idle` waits for them too. */
  private readonly lookups = new Set<Promise<void>>();
  private reconciling: Promise<unknown> | null = null;
  private closed = false;

  constructor(
    private readonly index: SearchIndex,
    private readonly catalog: PackageCatalog,
    private readonly documents: PackageDocuments,
    private readonly log: Logger,
    /**
     * After indexing a package, the indexer rests this many times as long as it took: indexing
     * then takes at most 1/(1 + pause) of the process's time, and a burst of pushes to one
     * package coalesces into a few rebuilds instead of one each. 1000 tag pushes to one
     * repository (conformance/bench/search.mjs): ~3× the time with no pause, see results/search.md.
     */
    private readonly pause = 4,
  ) {}

  /** Indexes the package soon (or forgets it, once it is gone or deleted). */
  schedule(name: string): void {
    if (this.closed) return;
    this.queued.add(name);
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
  }

  /**
   * A management change, as the audit log records it: package changes
   * (link, visibility, delete, restore, versions) reindex the package; a
   * repository's visibility reindexes the packages linked to it.
   */
  onAudit(event: AuditEvent): void {
    if (event.target.package !== undefined && /^(package|version)\./.test(event.action)) this.schedule(event.target.package);
    else if (event.action === 'repository.visibility' && event.target.repository !== undefined) {
      const lookup = this.catalog.linkedTo(event.target.repository).then(
        (names) => names.forEach((n) => this.schedule(n)),
        (err: unknown) => this.log.warn({ err, repository: event.target.repository }, 'search: could not find the linked packages'),
      );
      this.lookups.add(lookup);
      void lookup.finally(() => this.lookups.delete(lookup));
    }
  }

  /** Resolves once nothing is queued or being indexed. */
  async idle(): Promise<void> {
    while (this.draining || this.lookups.size > 0 || this.reconciling) {
      await Promise.all(this.lookups);
      if (this.draining) await this.draining;
      if (this.reconciling) await this.reconciling.catch(() => undefined);
    }
  }

  /**
   * Rereads the 30-day downloads of packages that were pulled: pulls are too many to
   * reindex for, and only move a package among its ties. Failures are logged.
   */
  async refreshDownloads(names: Iterable<string>): Promise<void> {
    for (const name of names) {
      if (this.closed) return;
      try {
        await this.index.setDownloads(name, await this.documents.downloads(name));
      } catch (err) {
        this.log.warn({ err, package: name }, 'search: could not refresh downloads');
      }
    }
  }

  /** Indexes one package now; a missing or deleted package leaves the index. */
  async reindex(name: string): Promise<void> {
    const pkg = await this.catalog.package(name);
    if (!pkg || pkg.deletedAt !== null) await this.index.remove(name);
    else await this.index.put(await this.documents.build(pkg));
  }

  /**
   * Reindexes every package whose document is missing, disagrees with the
   * package model (visibility, owner, link) or is older than its last
   * change, and removes documents of packages that are gone or deleted.
   */
  async reconcile(): Promise<{ indexed: number; removed: number }> {
    const run = this.reconcileNow();
    this.reconciling = run;
    try {
      return await run;
    } finally {
      if (this.reconciling === run) this.reconciling = null;
    }
  }

  private async reconcileNow(): Promise<{ indexed: number; removed: number }> {
    const stamps = await this.index.stamps();
    let indexed = 0;
    let removed = 0;
    for (const pkg of await this.catalog.all()) {
      const stamp = stamps.get(pkg.name);
      stamps.delete(pkg.name);
      if (this.closed) break;
      if (pkg.deletedAt !== null) {
        if (stamp) {
          await this.index.remove(pkg.name);
          removed++;
        }
        continue;
      }
      const stale =
        !stamp ||
        stamp.visibility !== pkg.visibility ||
        stamp.ownerId !== pkg.ownerId ||
        stamp.repositoryId !== (pkg.repository?.id ?? null) ||
        (await this.documents.lastChange(pkg.name)) >= stamp.indexedAt;
      if (stale) {
        await this.index.put(await this.documents.build(pkg));
        indexed++;
      }
    }
    if (!this.closed) {
      for (const name of stamps.keys()) {
        await this.index.remove(name);
        removed++;
      }
    }
    return { indexed, removed };
  }

  /** Stops taking changes and waits for the one being indexed. */
  async close(): Promise<void> {
    this.closed = true;
    this.queued.clear();
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (let next = first(this.queued); next !== undefined; next = first(this.queued)) {
      this.queued.delete(next);
      const started = performance.now();
      try {
        await this.reindex(next);
      } catch (err) {
        // Never the change's failure: the package is indexed again on its next change or at the next reconcile.
        this.log.warn({ err, package: next }, 'search: could not index a package');
      }
      const rest = (performance.now() - started) * this.pause;
      if (!this.closed && rest >= 1) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  }
}

function first(set: Set<string>): string | undefined {
  return set.values().next().value;
}
