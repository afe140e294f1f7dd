import { migrate } from '../../src/persistence/migration-runner';
import type { SearchIndex } from '../../src/search/search-index';
import { SEARCH_MIGRATIONS } from '../../src/search/sql/search-migrations';
import { SqlSearchIndex } from '../../src/search/sql/sql-search-index';
import { searchIndexContract } from '../contracts/search-index.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

/** The SearchIndex contract on SQLite (FTS5) and PostgreSQL (tsvector). */
for (const dialect of DIALECTS) {
  const opened = new WeakMap<SearchIndex, TestDatabase>();
  searchIndexContract(`sql on ${dialect}`, {
    async create() {
      const t = await createTestDatabase(dialect);
      await migrate(t.db, [SEARCH_MIGRATIONS]);
      const index = new SqlSearchIndex(t.db);
      opened.set(index, t);
      return index;
    },
    destroy: async (index) => opened.get(index)?.dispose(),
  });
}
