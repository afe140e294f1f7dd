import type { Database, Queryable, SqlValue } from '../../persistence/database';
import type { PackageChange, PackageRecord, PackageState, PackageStore } from '../stores/package-store';
import type { Visibility } from '../stores/source-repository-store';

interface PackageRow {
  name: string;
  owner_id: number;
  source_repository_id: number | null;
  visibility: Visibility;
  created_at: number;
}

const PACKAGE_SELECT = 'SELECT name, owner_id, source_repository_id, visibility, created_at FROM packages';

const toPackage = (r: PackageRow): PackageRecord => ({
  name: r.name,
  ownerId: r.owner_id,
  sourceRepositoryId: r.source_repository_id,
  visibility: r.visibility,
  createdAt: r.created_at,
});

interface ChangeRow {
  id: number;
  at: number;
  kind: string;
  name: string;
  visibility: Visibility | null;
  repository_id: number | null;
  digest: string | null;
  target: string | null;
}

const INSERT_STATE = 'INSERT INTO package_states (name) VALUES (?) ON CONFLICT (name) DO NOTHING';

/** Packages on SQLite or PostgreSQL; table from PACKAGE_MIGRATIONS. */
export class SqlPackageStore implements PackageStore {
  constructor(private readonly db: Database) {}

  async package(name: string): Promise<PackageRecord | null> {
    const r = await this.db.get<PackageRow>(`${PACKAGE_SELECT} WHERE name = ?`, [name]);
    return r ? toPackage(r) : null;
  }

  async ensurePackage(record: PackageRecord): Promise<PackageRecord> {
    // Two first pushes of one package may race: the first insert wins, both read what it stored.
    await this.db.run(
      'INSERT INTO packages (name, owner_id, source_repository_id, visibility, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
      [record.name, record.ownerId, record.sourceRepositoryId, record.visibility, record.createdAt],
    );
    const stored = await this.package(record.name);
    if (!stored) throw new Error(`package ${record.name} vanished after insert`);
    await this.db.run(INSERT_STATE, [record.name]);
    return stored;
  }

  async linkPackage(name: string, repositoryId: number | null): Promise<void> {
    await this.changeAndJournal(
      'UPDATE packages SET source_repository_id = ? WHERE name = ?',
      [repositoryId, name],
      repositoryId === null ? 'unlinked' : 'linked',
      name,
      { repositoryId },
    );
  }

  async setPackageVisibility(name: string, visibility: Visibility): Promise<void> {
    await this.changeAndJournal('UPDATE packages SET visibility = ? WHERE name = ?', [visibility, name], 'visibility', name, {
      visibility,
    });
  }

  async listPackages(filter: { ownerId?: number; repositoryId?: number }): Promise<PackageRecord[]> {
    const rows =
      filter.repositoryId !== undefined
        ? await this.db.all<PackageRow>(`${PACKAGE_SELECT} WHERE source_repository_id = ? ORDER BY name`, [filter.repositoryId])
        : filter.ownerId !== undefined
          ? await this.db.all<PackageRow>(`${PACKAGE_SELECT} WHERE owner_id = ? ORDER BY name`, [filter.ownerId])
          : await this.db.all<PackageRow>(`${PACKAGE_SELECT} ORDER BY name`);
    return rows.map(toPackage);
  }

  async packageState(name: string): Promise<PackageState | null> {
    const read = () =>
      this.db.get<{ id: number; deleted_at: number | null }>('SELECT id, deleted_at FROM package_states WHERE name = ?', [name]);
    let row = await read();
    // A package stored by a process that predates its state row (a rolling upgrade) gets one now.
    if (!row && (await this.package(name))) {
      await this.db.run(INSERT_STATE, [name]);
      row = await read();
    }
    return row ? { id: row.id, deletedAt: row.deleted_at } : null;
  }

  async setPackageDeletedAt(name: string, deletedAt: number | null): Promise<void> {
    await this.changeAndJournal(
      'UPDATE package_states SET deleted_at = ? WHERE name = ?',
      [deletedAt, name],
      deletedAt === null ? 'restored' : 'deleted',
      name,
      {},
    );
  }

  async changes(limit: number): Promise<PackageChange[]> {
    const rows = await this.db.all<ChangeRow>(
      'SELECT id, at, kind, name, visibility, repository_id, digest, target FROM package_changes ORDER BY id LIMIT ?',
      [limit],
    );
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      kind: r.kind as PackageChange['kind'],
      name: r.name,
      visibility: r.visibility,
      repositoryId: r.repository_id,
      promotion: r.digest !== null && r.target !== null ? { digest: r.digest, target: r.target } : null,
    }));
  }

  async journalPromotion(name: string, digest: string, target: string): Promise<void> {
    await this.db.run('INSERT INTO package_changes (at, kind, name, digest, target) VALUES (?, ?, ?, ?, ?)', [
      Date.now(),
      'promoted',
      name,
      digest,
      target,
    ]);
  }

  async acknowledgeChanges(ids: readonly number[]): Promise<void> {
    for (let at = 0; at < ids.length; at += 500) {
      const batch = ids.slice(at, at + 500);
      await this.db.run(`DELETE FROM package_changes WHERE id IN (${batch.map(() => '?').join(', ')})`, batch);
    }
  }

  /** The change and its journal entry in one transaction; no entry when the change touched nothing. */
  private async changeAndJournal(
    sql: string,
    params: SqlValue[],
    kind: PackageChange['kind'],
    name: string,
    facts: { visibility?: Visibility; repositoryId?: number | null },
  ): Promise<void> {
    await this.db.transaction(async (tx: Queryable) => {
      if ((await tx.run(sql, params)).changes === 0) return;
      await tx.run('INSERT INTO package_changes (at, kind, name, visibility, repository_id) VALUES (?, ?, ?, ?, ?)', [
        Date.now(),
        kind,
        name,
        facts.visibility ?? null,
        facts.repositoryId ?? null,
      ]);
    });
  }
}
