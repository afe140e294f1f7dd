import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteDatabase } from '../../src/persistence/sqlite-database';
import { openDatabase } from '../../src/persistence/sqlite-file';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SqliteDatabase with its WAL checkpointed on a thread', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'berth-wal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('turns the automatic checkpoint off, and the thread copies committed pages into the file', async () => {
    const file = path.join(dir, 'berth.db');
    const db = new SqliteDatabase(openDatabase(file), { checkpointFile: file });
    try {
      expect(db.connection.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      await db.exec('CREATE TABLE items (n INTEGER PRIMARY KEY, data BLOB NOT NULL)');
      const before = statSync(file).size;
      const page = Buffer.alloc(1024, 7);
      for (let i = 0; i < 40; i++) {
        await db.transaction(async (tx) => {
          for (let j = 0; j < 100; j++) await tx.run('INSERT INTO items (n, data) VALUES (?, ?)', [i * 100 + j, page]);
        });
      }
      // ~4 MiB committed, all of it in the WAL: this connection never checkpoints.
      const deadline = Date.now() + 10_000;
      while (statSync(file).size < before + 4_000_000 && Date.now() < deadline) await sleep(50);
      expect(statSync(file).size).toBeGreaterThan(before + 4_000_000);
    } finally {
      await db.close();
    }
  });

  it('gives the connection its automatic checkpoint back, and says why, when the thread cannot run', async () => {
    const file = path.join(dir, 'berth.db');
    const failures: Error[] = [];
    // A directory is no database: the thread fails at its first step.
    const db = new SqliteDatabase(openDatabase(file), { checkpointFile: dir, onCheckpointFailure: (err) => failures.push(err) });
    try {
      const deadline = Date.now() + 10_000;
      while (failures.length === 0 && Date.now() < deadline) await sleep(20);
      expect(failures).toHaveLength(1);
      expect(db.connection.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      await db.close();
    }
  });

  it('keeps SQLite’s automatic checkpoint for a connection without a thread (a CLI command)', async () => {
    const file = path.join(dir, 'berth.db');
    const db = new SqliteDatabase(openDatabase(file));
    try {
      expect(db.connection.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      await db.close();
    }
  });
});
