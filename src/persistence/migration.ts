import type { Dialect } from './database';

/** One forward-only schema change of one store. Never edit a released one; append the next version. */
export interface Migration {
  /** 1, 2, 3… within its store, in order, no gaps. */
  version: number;
  name: string;
  /** One DDL text for both dialects, or one per dialect. */
  sql: string | Readonly<Record<Dialect, string>>;
  /**
   * For a change first released in the legacy `src/metadata/sqlite/migrations.ts`:
   * its version there. A SQLite database that recorded it has the change
   * already, so the runner records this migration as applied without running it.
   */
  legacyVersion?: number;
}

/** A store's own tables: its name (the key of its versions) and its migrations. */
export interface StoreMigrations {
  store: string;
  migrations: readonly Migration[];
}
