import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Dialect } from '../../src/persistence/database';
import type { StoreMigrations } from '../../src/persistence/migration';
import { migrate } from '../../src/persistence/migration-runner';
import { createTestDatabase, databaseUrl, DIALECTS, type TestDatabase } from './support/test-databases';

/** A store with three versions, each changing what the one before made. */
const WIDGETS: StoreMigrations = {
  store: 'widgets',
  migrations: [
    { version: 1, name: 'widgets', sql: 'CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)' },
    { version: 2, name: 'widget size', sql: 'ALTER TABLE widgets ADD COLUMN size INTEGER NOT NULL DEFAULT 0' },
    {
      version: 3,
      name: 'widget colours',
      sql: {
        sqlite:
          'CREATE TABLE widget_colours (widget_id INTEGER NOT NULL, colour TEXT NOT NULL, PRIMARY KEY (widget_id, colour)) WITHOUT ROWID',
        postgres: 'CREATE TABLE widget_colours (widget_id INTEGER NOT NULL, colour TEXT NOT NULL, PRIMARY KEY (widget_id, colour))',
      },
    },
  ],
};

const upTo = (store: StoreMigrations, version: number): StoreMigrations => ({ ...store, migrations: store.migrations.slice(0, version) });

async function recorded(t: TestDatabase, store: string): Promise<number[]> {
  const rows = await t.db.all<{ version: number }>('SELECT version FROM persistence_migrations WHERE store = ? ORDER BY version', [store]);
  return rows.map((r) => r.version);
}

for (const dialect of DIALECTS) {
  describe(`migration runner on ${dialect}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await createTestDatabase(dialect);
    });
    afterEach(() => t.dispose());

    it('applies every migration once, in order, and nothing on the next start', async () => {
      expect(await migrate(t.db, [WIDGETS])).toEqual(new Map([['widgets', 3]]));
      // A second start would fail on CREATE TABLE if it ran anything again.
      await migrate(t.db, [WIDGETS]);
      expect(await recorded(t, 'widgets')).toEqual([1, 2, 3]);
      await t.db.run('INSERT INTO widget_colours (widget_id, colour) VALUES (?, ?)', [1, 'red']);
    });

    for (const from of [0, 1, 2]) {
      it(`upgrades a database at version ${from} to the newest, keeping its data`, async () => {
        await migrate(t.db, [upTo(WIDGETS, from)]);
        if (from >= 1) await t.db.run('INSERT INTO widgets (id, name) VALUES (?, ?)', [7, 'sprocket']);
        await migrate(t.db, [WIDGETS]);
        expect(await recorded(t, 'widgets')).toEqual([1, 2, 3]);
        const rows = await t.db.all<{ id: number; name: string; size: number }>('SELECT id, name, size FROM widgets');
        expect(rows).toEqual(from >= 1 ? [{ id: 7, name: 'sprocket', size: 0 }] : []);
      });
    }

    it('keeps stores apart: each has its own versions', async () => {
      const gadgets: StoreMigrations = {
        store: 'gadgets',
        migrations: [{ version: 1, name: 'gadgets', sql: 'CREATE TABLE gadgets (id INTEGER)' }],
      };
      await migrate(t.db, [upTo(WIDGETS, 1), gadgets]);
      await migrate(t.db, [WIDGETS, gadgets]);
      expect(await recorded(t, 'widgets')).toEqual([1, 2, 3]);
      expect(await recorded(t, 'gadgets')).toEqual([1]);
    });

    it('rolls a failed migration back whole and records nothing for it', async () => {
      const broken: StoreMigrations = {
        store: 'widgets',
        migrations: [
          ...WIDGETS.migrations.slice(0, 1),
          { version: 2, name: 'half', sql: 'CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table' },
        ],
      };
      // Matched by message: better-sqlite3 builds its errors from the first test file's realm, which
      // toThrow's instanceof check does not recognise in later files run by the same jest worker.
      await expect(migrate(t.db, [broken])).rejects.toMatchObject({ message: expect.stringMatching(/no_such_table/) });
      expect(await recorded(t, 'widgets')).toEqual([1]);
      await expect(t.db.get('SELECT count(*) AS n FROM half')).rejects.toMatchObject({ message: expect.stringMatching(/half/) });
    });

    it('refuses a database a newer Berth migrated (forward only)', async () => {
      await migrate(t.db, [WIDGETS]);
      await expect(migrate(t.db, [upTo(WIDGETS, 2)])).rejects.toThrow(/migration 3 of widgets, this Berth knows 2/);
    });

    it('refuses migrations numbered out of order', async () => {
      const gap: StoreMigrations = { store: 'widgets', migrations: [WIDGETS.migrations[0]!, WIDGETS.migrations[2]!] };
      await expect(migrate(t.db, [gap])).rejects.toThrow(/expected 2/);
    });
  });
}

describe('migration runner: replicas starting at once', () => {
  /**
   * Five versions, each slow enough (~0.1 s) that the replicas' runs overlap: a migration
   * that ran twice fails on CREATE TABLE, and one that was skipped is missing from the record.
   */
  const SLOW = {
    sqlite: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) FROM c',
    postgres: 'SELECT pg_sleep(0.1)',
  };
  const MANY: StoreMigrations = {
    store: 'many',
    migrations: Array.from({ length: 5 }, (_, i) => ({
      version: i + 1,
      name: `table ${i + 1}`,
      sql: {
        sqlite: `${SLOW.sqlite}; CREATE TABLE many_${i + 1} (id INTEGER)`,
        postgres: `${SLOW.postgres}; CREATE TABLE many_${i + 1} (id INTEGER)`,
      },
    })),
  };
  const REPLICAS = 4;
  const CHILD = path.join(__dirname, 'support', 'migrate-in-child.js');

  /** Starts a replica's migration run; it waits, connected, until `go` is written to its stdin. */
  function startChild(
    dialect: Dialect,
    where: string,
  ): { ready: Promise<void>; go(): void; done: Promise<{ code: number | null; stderr: string }> } {
    const child = spawn(process.execPath, [CHILD, dialect, where, JSON.stringify([MANY])], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const done = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      void done.then((r) => reject(new Error(`a replica exited before it was ready: ${r.stderr}`)));
    });
    return { ready, go: () => child.stdin.end('go\n'), done };
  }

  it.each(DIALECTS)('%s: every process succeeds and each migration runs once', async (dialect) => {
    let where: string;
    let t: TestDatabase;
    let dir: string | undefined;
    if (dialect === 'sqlite') {
      dir = mkdtempSync(path.join(os.tmpdir(), 'berth-migrate-'));
      where = path.join(dir, 'berth.db');
      t = await createTestDatabase('sqlite', where);
    } else {
      t = await createTestDatabase('postgres');
      // The same schema the test database uses, reached by the children as a replica would.
      const schema = (await t.db.get<{ s: string }>('SELECT current_schema() AS s'))!.s;
      where = `${databaseUrl()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    }
    try {
      const children = Array.from({ length: REPLICAS }, () => startChild(dialect, where));
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.go();
      const results = await Promise.all(children.map((c) => c.done));
      expect(results.map((r) => (r.code === 0 ? 'ok' : r.stderr))).toEqual(Array(REPLICAS).fill('ok'));
      expect(await recorded(t, 'many')).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await t.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
});
