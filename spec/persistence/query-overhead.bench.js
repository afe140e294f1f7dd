// What the Database interface costs per query over better-sqlite3 called directly:
// one primary-key SELECT on an in-memory SQLite, the shape of the manifest GET hot path.
// Run: node spec/persistence/query-overhead.bench.js  (not part of make test; prints µs per query)
require('./support/require-typescript');
const path = require('node:path');
const BetterSqlite3 = require('better-sqlite3');
const { SqliteDatabase } = require(path.join(__dirname, '..', '..', 'src', 'persistence', 'sqlite-database.ts'));

const N = 200_000;
const ROUNDS = 5;

async function main() {
  const connection = new BetterSqlite3(':memory:');
  connection.exec('CREATE TABLE tags (name TEXT PRIMARY KEY, digest TEXT NOT NULL) WITHOUT ROWID');
  const insert = connection.prepare('INSERT INTO tags VALUES (?, ?)');
  for (let i = 0; i < 1000; i++) insert.run(`tag${i}`, `sha256:${i}`);
  const sql = 'SELECT digest FROM tags WHERE name = ?';
  const stmt = connection.prepare(sql);
  const db = new SqliteDatabase(connection);

  const sync = async () => {
    for (let i = 0; i < N; i++) stmt.get(`tag${i % 1000}`);
  };
  const direct = async () => {
    // An async function too, as a store method calling better-sqlite3 directly is one (the stores are async).
    for (let i = 0; i < N; i++) await Promise.resolve(stmt.get(`tag${i % 1000}`));
  };
  const layered = async () => {
    for (let i = 0; i < N; i++) await db.get(sql, [`tag${i % 1000}`]);
  };
  const best = { sync: Infinity, direct: Infinity, layered: Infinity };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries({ sync, direct, layered })) {
      const start = process.hrtime.bigint();
      await fn();
      const us = Number(process.hrtime.bigint() - start) / 1000 / N;
      best[name] = Math.min(best[name], us);
    }
  }
  console.log(`better-sqlite3, no await: ${best.sync.toFixed(3)} µs/query`);
  console.log(`better-sqlite3 direct: ${best.direct.toFixed(3)} µs/query`);
  console.log(`through Database:      ${best.layered.toFixed(3)} µs/query`);
  console.log(`overhead:              ${(best.layered - best.direct).toFixed(3)} µs/query`);
  await db.close();
}
main();
