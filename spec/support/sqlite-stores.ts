import { METADATA_MIGRATIONS } from '../../src/metadata/sql/metadata-migrations';
import { SqlMetadataIndex } from '../../src/metadata/sql/sql-metadata-index';
import { migrate } from '../../src/persistence/migration-runner';
import { openDatabase } from '../../src/persistence/sqlite-file';
import { SqliteDatabase } from '../../src/persistence/sqlite-database';
import { SqlUploadSessionStore } from '../../src/sessions/sql/sql-upload-session-store';
import { UPLOAD_SESSION_MIGRATIONS } from '../../src/sessions/sql/upload-session-migrations';

/** The embedded default's index and sessions on a SQLite file (or ':memory:'), opened and migrated as the composition root does. */
export async function openSqliteStores(file: string) {
  const connection = openDatabase(file);
  const db = new SqliteDatabase(connection);
  await migrate(db, [METADATA_MIGRATIONS, UPLOAD_SESSION_MIGRATIONS]);
  return {
    connection,
    db,
    index: new SqlMetadataIndex(db),
    sessions: new SqlUploadSessionStore(db),
    /** Closes the file. */
    close: () => db.close(),
  };
}
