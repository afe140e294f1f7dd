// A separate process (a replica starting) that runs the migration runner once and exits:
// 0 when it succeeded. Loads the TypeScript sources through typescript's transpiler, as jest does.
// argv: dialect, sqlite file or PostgreSQL URL, JSON of the StoreMigrations list.
// Prints "ready" once connected, then migrates when a line arrives on stdin, so that the
// parent can start every replica's run at the same moment.
require('./require-typescript');
const path = require('node:path');
const src = path.join(__dirname, '..', '..', '..', 'src', 'persistence');
const { migrate } = require(path.join(src, 'migration-runner.ts'));
const [dialect, where, stores] = process.argv.slice(2);

async function main() {
  let db;
  if (dialect === 'sqlite') {
    const BetterSqlite3 = require('better-sqlite3');
    const connection = new BetterSqlite3(where);
    connection.pragma('journal_mode = WAL');
    connection.pragma('busy_timeout = 10000');
    const { SqliteDatabase } = require(path.join(src, 'sqlite-database.ts'));
    db = new SqliteDatabase(connection);
  } else {
    const { PostgresDatabase } = require(path.join(src, 'postgres-database.ts'));
    db = new PostgresDatabase({ url: where, maxConnections: 2 });
  }
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  try {
    await migrate(db, JSON.parse(stores));
  } finally {
    await db.close();
  }
}
main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  },
);
