import type { Database, Queryable, SqlValue } from '../../persistence/database';
import type { DailyCount, DownloadIncrement, DownloadStore } from '../download-store';

/** Rows per statement: few round trips per flush, far below either driver's parameter limit. */
const ROWS_PER_STATEMENT = 200;

/** Download counts on SQLite or PostgreSQL; tables from DOWNLOAD_MIGRATIONS. */
export class SqlDownloadStore implements DownloadStore {
  constructor(private readonly db: Database) {}

  async add(increments: readonly DownloadIncrement[]): Promise<void> {
    if (increments.length === 0) return;
    // A flush may span midnight: one digest then has two daily rows but one total.
    const totals = new Map<string, { repository: string; digest: string; count: number }>();
    for (const i of increments) {
      const key = `${i.repository}\0${i.digest}`;
      const total = totals.get(key);
      if (total) total.count += i.count;
      else totals.set(key, { repository: i.repository, digest: i.digest, count: i.count });
    }
    await this.db.transaction(async (tx) => {
      for (let at = 0; at < increments.length; at += ROWS_PER_STATEMENT) {
        const rows = increments.slice(at, at + ROWS_PER_STATEMENT);
        await upsertAdd(
          tx,
          'download_daily (repository, digest, day, count)',
          '(repository, digest, day)',
          rows.map((r) => [r.repository, r.digest, r.day, r.count]),
        );
      }
      const all = [...totals.values()];
      for (let at = 0; at < all.length; at += ROWS_PER_STATEMENT) {
        const rows = all.slice(at, at + ROWS_PER_STATEMENT);
        await upsertAdd(
          tx,
          'download_totals (repository, digest, count)',
          '(repository, digest)',
          rows.map((r) => [r.repository, r.digest, r.count]),
        );
      }
    });
  }

  async versionTotals(repository: string, digests?: readonly string[]): Promise<Map<string, number>> {
    if (digests !== undefined && digests.length === 0) return new Map();
    const rows =
      digests === undefined
        ? await this.db.all<{ digest: string; count: number }>('SELECT digest, count FROM download_totals WHERE repository = ?', [
            repository,
          ])
        : await this.db.all<{ digest: string; count: number }>(
            `SELECT digest, count FROM download_totals WHERE repository = ? AND digest IN (${digests.map(() => '?').join(', ')})`,
            [repository, ...digests],
          );
    return new Map(rows.map((r) => [r.digest, r.count]));
  }

  async packageTotal(repository: string): Promise<number> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL, which the driver returns as text: cast it back.
    const row = await this.db.get<{ total: number | null }>(
      'SELECT CAST(SUM(count) AS BIGINT) AS total FROM download_totals WHERE repository = ?',
      [repository],
    );
    return row?.total ?? 0;
  }

  async daily(repository: string, fromDay: number, toDay: number, digest?: string): Promise<DailyCount[]> {
    const byDigest = digest === undefined ? '' : ' AND digest = ?';
    const params: SqlValue[] = [repository, fromDay, toDay, ...(digest === undefined ? [] : [digest])];
    return this.db.all<DailyCount>(
      `SELECT day, CAST(SUM(count) AS BIGINT) AS count FROM download_daily
       WHERE repository = ? AND day >= ? AND day <= ?${byDigest} GROUP BY day ORDER BY day`,
      params,
    );
  }

  async pruneDaily(beforeDay: number, limit: number): Promise<number> {
    const { changes } = await this.db.run(
      `DELETE FROM download_daily WHERE (repository, digest, day) IN
       (SELECT repository, digest, day FROM download_daily WHERE day < ? LIMIT ?)`,
      [beforeDay, limit],
    );
    return changes;
  }
}

/** One multi-row INSERT whose conflicting rows add their count to the stored one. */
async function upsertAdd(tx: Queryable, into: string, key: string, rows: SqlValue[][]): Promise<void> {
  const width = rows[0]?.length ?? 0;
  const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  const table = into.slice(0, into.indexOf(' '));
  await tx.run(
    `INSERT INTO ${into} VALUES ${rows.map(() => tuple).join(', ')}
     ON CONFLICT ${key} DO UPDATE SET count = ${table}.count + excluded.count`,
    rows.flat(),
  );
}
