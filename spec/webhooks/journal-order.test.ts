import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { createLogger } from '../../src/log';
import type { MetadataIndex } from '../../src/metadata/metadata-index';
import { METADATA_MIGRATIONS } from '../../src/metadata/sql/metadata-migrations';
import { PUT_MANIFEST_ON_POSTGRES } from '../../src/metadata/sql/metadata-queries';
import { SqlMetadataIndex } from '../../src/metadata/sql/sql-metadata-index';
import { migrate } from '../../src/persistence/migration-runner';
import { ChangeRelay } from '../../src/webhooks/change-relay';
import { SqlHookStore } from '../../src/webhooks/sql/sql-hook-store';
import { WEBHOOK_MIGRATIONS } from '../../src/webhooks/sql/webhook-migrations';
import { createTestDatabase, type TestDatabase } from '../persistence/support/test-databases';

/**
 * The journal pitfall on PostgreSQL: an identity id is taken before commit, so a push that
 * commits late shows up with a lower id than one already read. Two real concurrent
 * transactions; the relay must still hand every entry on, once.
 */
let t: TestDatabase;
let index: SqlMetadataIndex;
beforeEach(async () => {
  t = await createTestDatabase('postgres');
  await migrate(t.db, [METADATA_MIGRATIONS, WEBHOOK_MIGRATIONS]);
  index = new SqlMetadataIndex(t.db);
});
afterEach(() => t.dispose());

const digest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

function pushParams(repository: string, seed: string, tag: string) {
  return [
    repository,
    Date.now(),
    '[]',
    digest(seed),
    Buffer.from(seed),
    'application/vnd.oci.image.manifest.v1+json',
    seed.length,
    null,
    null,
    null,
    null,
    null,
    tag,
    0, // not sparse
    0, // the tag is not immutable
    null, // no actor
    null, // no version limit (quotas)
  ];
}

it('relays an entry committed after a later-numbered one was read, and each entry once', async () => {
  const seen: number[] = [];
  const recording: Pick<MetadataIndex, 'changes' | 'acknowledgeChanges' | 'pushedVersions'> = {
    changes: async (limit) => {
      const changes = await index.changes(limit);
      seen.push(...changes.map((c) => c.id));
      return changes;
    },
    acknowledgeChanges: (ids) => index.acknowledgeChanges(ids),
    pushedVersions: (repository, digests) => index.pushedVersions(repository, digests),
  };
  const relay = new ChangeRelay(recording, undefined, new SqlHookStore(t.db), createLogger('silent'), {
    pollIntervalMs: 60_000,
    web: 'https://registry.example',
    openBlob: () => Promise.reject(new Error('no blobs here')),
    // Entries are relayed as soon as read: what is tested is their order, not the folding of bursts.
    burstMs: 0,
  });

  // Transaction A takes its journal id first and stays open.
  const slow = new Client({ connectionString: t.url });
  await slow.connect();
  try {
    await slow.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    await slow.query(PUT_MANIFEST_ON_POSTGRES, pushParams('a/slow', 'slow', 'v1'));
    const early = (await slow.query<{ id: string }>('SELECT id FROM metadata_changes')).rows.map((r) => Number(r.id));
    expect(early).toHaveLength(1);

    // Transaction B takes the next id and commits first; the relay reads and acknowledges it.
    await index.putManifest({
      record: {
        repository: 'b/fast',
        digest: digest('fast'),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 4,
        artifactType: null,
        configDigest: null,
        configMediaType: null,
        subject: null,
        annotations: null,
        createdAt: Date.now(),
      },
      content: Buffer.from('fast'),
      references: [],
      tag: 'v1',
    });
    await relay.drain();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeGreaterThan(early[0]!);

    // A commits now, with the lower id: a consumer remembering "last id seen" would skip it.
    await slow.query('COMMIT');
    await relay.drain();
    expect(seen).toEqual([seen[0], early[0]]);
    expect(await index.changes(10)).toEqual([]);
  } finally {
    await slow.end();
  }
});
