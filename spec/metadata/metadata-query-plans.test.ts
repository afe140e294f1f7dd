import { METADATA_MIGRATIONS } from '../../src/metadata/sql/metadata-migrations';
import { METADATA_QUERIES as Q } from '../../src/metadata/sql/metadata-queries';
import { VERSION_FACT_QUERIES as FQ, VERSION_FILTERS as F, VERSION_QUERIES as V } from '../../src/metadata/sql/version-queries';
import type { Database, Dialect, SqlValue } from '../../src/persistence/database';
import { migrate } from '../../src/persistence/migration-runner';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

const REPOSITORIES = 3_000;
const TAGS_IN_ONE = 5_000;
const VERSIONS_IN_ONE = 5_000;

/**
 * Enough rows that a planner choosing a full scan would show it (PostgreSQL
 * picks a sequential scan over an index on a table of a few pages): 3k
 * repositories each with a linked blob and a manifest (a version) tagged `latest` that references it and
 * remembers a deleted tag, and 5k more tags and 5k more versions in repo1.
 */
const FILL: Record<Dialect, string> = {
  sqlite: `
    INSERT INTO repositories (id, name, created_at)
      WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${REPOSITORIES}) SELECT i, 'repo' || i, 0 FROM s;
    INSERT INTO manifest_contents (digest, content) SELECT 'sha256:m' || id, x'7b7d' FROM repositories;
    INSERT INTO manifests (repository_id, digest, media_type, size, created_at) SELECT id, 'sha256:m' || id, 'x', 2, 0 FROM repositories;
    INSERT INTO manifest_versions (repository_id, digest) SELECT repository_id, digest FROM manifests;
    INSERT INTO deleted_tags (repository_id, manifest_digest, name, deleted_at) SELECT id, 'sha256:m' || id, 'old', 0 FROM repositories;
    INSERT INTO manifest_contents (digest, content)
      WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${VERSIONS_IN_ONE}) SELECT 'sha256:v' || i, x'7b7d' FROM s;
    INSERT INTO manifests (repository_id, digest, media_type, size, created_at) SELECT 1, digest, 'x', 2, 0 FROM manifest_contents WHERE digest LIKE 'sha256:v%';
    INSERT INTO manifest_versions (repository_id, digest) SELECT 1, digest FROM manifest_contents WHERE digest LIKE 'sha256:v%';
    INSERT INTO tags (repository_id, name, manifest_digest, updated_at) SELECT id, 'latest', 'sha256:m' || id, 0 FROM repositories;
    INSERT INTO blobs (digest, size, created_at) SELECT 'sha256:b' || id, 1, 0 FROM repositories;
    INSERT INTO repository_blobs (repository_id, digest, created_at) SELECT id, 'sha256:b' || id, 0 FROM repositories;
    INSERT INTO manifest_references (repository_id, manifest_digest, kind, digest) SELECT id, 'sha256:m' || id, 'blob', 'sha256:b' || id FROM repositories;
    INSERT INTO tags (repository_id, name, manifest_digest, updated_at)
      WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${TAGS_IN_ONE}) SELECT 1, 'v' || i, 'sha256:m1', 0 FROM s;
    ANALYZE;
  `,
  postgres: `
    INSERT INTO repositories (id, name, created_at) SELECT i, 'repo' || i, 0 FROM generate_series(1, ${REPOSITORIES}) i;
    INSERT INTO manifest_contents (digest, content) SELECT 'sha256:m' || id, '\\x7b7d'::bytea FROM repositories;
    INSERT INTO manifests (repository_id, digest, media_type, size, created_at) SELECT id, 'sha256:m' || id, 'x', 2, 0 FROM repositories;
    INSERT INTO manifest_versions (repository_id, digest) SELECT repository_id, digest FROM manifests;
    INSERT INTO deleted_tags (repository_id, manifest_digest, name, deleted_at) SELECT id, 'sha256:m' || id, 'old', 0 FROM repositories;
    INSERT INTO manifest_contents (digest, content) SELECT 'sha256:v' || i, '\\x7b7d'::bytea FROM generate_series(1, ${VERSIONS_IN_ONE}) i;
    INSERT INTO manifests (repository_id, digest, media_type, size, created_at) SELECT 1, digest, 'x', 2, 0 FROM manifest_contents WHERE digest LIKE 'sha256:v%';
    INSERT INTO manifest_versions (repository_id, digest) SELECT 1, digest FROM manifest_contents WHERE digest LIKE 'sha256:v%';
    INSERT INTO tags (repository_id, name, manifest_digest, updated_at) SELECT id, 'latest', 'sha256:m' || id, 0 FROM repositories;
    INSERT INTO blobs (digest, size, created_at) SELECT 'sha256:b' || id, 1, 0 FROM repositories;
    INSERT INTO repository_blobs (repository_id, digest, created_at) SELECT id, 'sha256:b' || id, 0 FROM repositories;
    INSERT INTO manifest_references (repository_id, manifest_digest, kind, digest) SELECT id, 'sha256:m' || id, 'blob', 'sha256:b' || id FROM repositories;
    INSERT INTO tags (repository_id, name, manifest_digest, updated_at) SELECT 1, 'v' || i, 'sha256:m1', 0 FROM generate_series(1, ${TAGS_IN_ONE}) i;
    ANALYZE;
  `,
};

/** The requests whose cost must not grow with the registry, and the queries each runs. */
const HOT_QUERIES: Array<[string, string, SqlValue[]]> = [
  ['manifest GET by tag (one query)', Q.getTaggedManifest, ['repo1500', 'latest']],
  ['tag resolution (HEAD by tag)', Q.resolveTag, ['repo1500', 'latest']],
  ['manifest GET by digest (and by tag, once resolved)', Q.getManifest, ['repo1500', 'sha256:m1500']],
  ['manifest HEAD', Q.statManifest, ['repo1500', 'sha256:m1500']],
  ['tags-list page', Q.listTags, ['repo1', 'v2500', 100]],
  ['catalog page', Q.listRepositories, ['repo1500', 100]],
  ['repository exists', Q.hasContent, ['repo1500']],
];

/** What the versions API reads per page and per version: each an index lookup too. */
const ORPHANED = ` AND ${F.active} AND NOT ${F.hasTags} AND NOT ${F.inLiveIndex} AND NOT ${F.hasLiveReferrers} AND NOT ${F.hasLiveSubject}`;
const PAGE = ['sha256:m1500', 'sha256:m1501', 'sha256:m1502'];
const VERSION_LOOKUPS: Array<[string, string, SqlValue[]]> = [
  ['versions page, newest first', V.page(` AND ${F.active}`), [1, 30, 0]],
  ['versions page, keyset', V.page(` AND ${F.active} AND ${F.olderThan}`), [1, 2500, 30, 0]],
  ['versions page, tagged', V.page(` AND ${F.active} AND ${F.hasTags}`), [1, 30, 0]],
  ['versions page, deleted and untagged', V.page(` AND ${F.deleted} AND NOT ${F.hadTags}`), [1, 30, 0]],
  ['versions page, orphaned', V.page(ORPHANED), [1, 30, 0]],
  ['versions page, by digest', V.page(` AND ${F.active} AND ${F.digest}`, false), [1, 'sha256:v2500', 30, 0]],
  // A total is linear in the repository's versions whatever the plan (in repo1, 5k of 8k rows, a scan is the
  // right one): what must hold is that another repository's count does not read this one's.
  ['versions count', V.count(` AND ${F.active}`), [1500]],
  ['version by id', V.byId, [1500, 1500]],
  ['remembered tags of a version (restore)', V.rememberedTags, [1500, 'sha256:m1500']],
  ['parents of a version (delete)', V.liveParents, [1500, 'sha256:m1500']],
  ['referrers of a version (delete)', V.liveReferrers, [1500, 'sha256:m1500']],
  // A page's facts: each query over the page's digests at once.
  ['tags of a page', FQ.tags(3), [1500, ...PAGE]],
  ['remembered tags of a page', FQ.rememberedTags(3), [1500, ...PAGE]],
  ['own sizes of a page', FQ.ownSizes(3), [1500, ...PAGE]],
  ['blob sizes of a page', FQ.blobSizes(3), [1500, ...PAGE]],
  ['parents of a page', FQ.liveParents(3), [1500, ...PAGE]],
  ['referrers of a page', FQ.liveReferrers(3), [1500, ...PAGE]],
];

/** Plan steps that read a whole table or sort a whole result: what makes a request's cost grow with the data. */
async function fullScans(db: Database, sql: string, params: SqlValue[]): Promise<string[]> {
  if (db.dialect === 'sqlite') {
    const plan = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
    return plan.map((p) => p.detail).filter((d) => /^SCAN /.test(d) || /TEMP B-TREE/.test(d));
  }
  const [row] = await db.all<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  const bad: string[] = [];
  const walk = (node: PlanNode) => {
    if (node['Node Type'] === 'Seq Scan' || node['Node Type'] === 'Sort') bad.push(`${node['Node Type']} ${node['Relation Name'] ?? ''}`);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(row!['QUERY PLAN'][0]!.Plan);
  return bad;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

for (const dialect of DIALECTS) {
  describe(`metadata index query plans on ${dialect}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      await migrate(t.db, [METADATA_MIGRATIONS]);
      await t.db.exec(FILL[dialect]);
    });
    afterAll(() => t.dispose());

    it.each(HOT_QUERIES)('%s uses indexes, no full scan or sort', async (_name, sql, params) => {
      expect(await fullScans(t.db, sql, params)).toEqual([]);
    });

    it.each(VERSION_LOOKUPS)('%s uses indexes, no full scan or sort', async (_name, sql, params) => {
      expect(await fullScans(t.db, sql, params)).toEqual([]);
    });

    it('answers them right on the filled tables (the plans above are of working queries)', async () => {
      expect(await t.db.get(Q.resolveTag, ['repo1500', 'latest'])).toEqual({ manifest_digest: 'sha256:m1500' });
      expect(await t.db.get(Q.getTaggedManifest, ['repo1500', 'latest'])).toMatchObject({ digest: 'sha256:m1500' });
      const page = await t.db.all<{ name: string }>(Q.listTags, ['repo1', 'v2500', 3]);
      expect(page.map((r) => r.name)).toEqual(['v2501', 'v2502', 'v2503']);
      const catalog = await t.db.all<{ name: string }>(Q.listRepositories, ['repo1500', 2]);
      expect(catalog.map((r) => r.name)).toEqual(['repo1501', 'repo1502']);
    });
  });
}
