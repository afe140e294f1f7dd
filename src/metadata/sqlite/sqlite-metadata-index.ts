import type Database from 'better-sqlite3';
import type { ManifestReference } from '../../oci/manifest';
import {
  MissingReferenceError,
  type DeleteOutcome,
  type ManifestRecord,
  type MetadataIndex,
  type Page,
  type PutManifestInput,
  type ReferrerRecord,
  type StoredManifest,
} from '../metadata-index';

interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  config_digest: string | null;
  config_media_type: string | null;
  subject: string | null;
  annotations: string | null;
  created_at: number;
}

const MANIFEST_COLUMNS =
  'm.digest, m.media_type, m.size, m.artifact_type, m.config_digest, m.config_media_type, m.subject, m.annotations, m.created_at';

/** The metadata index on SQLite. Statements are prepared once; each mutation is one IMMEDIATE transaction. */
export class SqliteMetadataIndex implements MetadataIndex {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      repoId: db.prepare<[string], { id: number }>('SELECT id FROM repositories WHERE name = ?'),
      insertRepo: db.prepare('INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)'),
      insertBlob: db.prepare('INSERT OR IGNORE INTO blobs (digest, size, created_at) VALUES (?, ?, ?)'),
      insertLink: db.prepare('INSERT OR IGNORE INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?)'),
      linkedSize: db.prepare<[string, string], { size: number }>(
        `SELECT b.size FROM repositories r JOIN repository_blobs l ON l.repository_id = r.id
         JOIN blobs b ON b.digest = l.digest WHERE r.name = ? AND l.digest = ?`,
      ),
      isLinked: db.prepare<[number, string], { one: number }>(
        'SELECT 1 AS one FROM repository_blobs WHERE repository_id = ? AND digest = ?',
      ),
      deleteLink: db.prepare('DELETE FROM repository_blobs WHERE repository_id = ? AND digest = ?'),
      blobReferrers: db.prepare<[number, string], { manifest_digest: string }>(
        "SELECT manifest_digest FROM manifest_references WHERE repository_id = ? AND kind = 'blob' AND digest = ? LIMIT 10",
      ),
      manifestReferrers: db.prepare<[number, string], { manifest_digest: string }>(
        "SELECT manifest_digest FROM manifest_references WHERE repository_id = ? AND kind = 'manifest' AND digest = ? LIMIT 10",
      ),
      hasManifest: db.prepare<[number, string], { one: number }>('SELECT 1 AS one FROM manifests WHERE repository_id = ? AND digest = ?'),
      insertContent: db.prepare('INSERT OR IGNORE INTO manifest_contents (digest, content) VALUES (?, ?)'),
      insertManifest: db.prepare(
        `INSERT OR IGNORE INTO manifests (repository_id, digest, media_type, size, artifact_type, config_digest,
           config_media_type, subject, annotations, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertReference: db.prepare(
        'INSERT OR IGNORE INTO manifest_references (repository_id, manifest_digest, kind, digest) VALUES (?, ?, ?, ?)',
      ),
      upsertTag: db.prepare(
        `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`,
      ),
      getManifest: db.prepare<[string, string], ManifestRow & { content: Buffer }>(
        `SELECT ${MANIFEST_COLUMNS}, c.content FROM repositories r JOIN manifests m ON m.repository_id = r.id
         JOIN manifest_contents c ON c.digest = m.digest WHERE r.name = ? AND m.digest = ?`,
      ),
      statManifest: db.prepare<[string, string], ManifestRow>(
        `SELECT ${MANIFEST_COLUMNS} FROM repositories r JOIN manifests m ON m.repository_id = r.id
         WHERE r.name = ? AND m.digest = ?`,
      ),
      resolveTag: db.prepare<[string, string], { manifest_digest: string }>(
        'SELECT t.manifest_digest FROM repositories r JOIN tags t ON t.repository_id = r.id WHERE r.name = ? AND t.name = ?',
      ),
      deleteManifest: db.prepare('DELETE FROM manifests WHERE repository_id = ? AND digest = ?'),
      contentInUse: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM manifests WHERE digest = ? LIMIT 1'),
      deleteContent: db.prepare('DELETE FROM manifest_contents WHERE digest = ?'),
      deleteTag: db.prepare('DELETE FROM tags WHERE repository_id = ? AND name = ?'),
      listTags: db.prepare<[number, string, number], { name: string }>(
        'SELECT name FROM tags WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?',
      ),
      hasContent: db.prepare<[string], { one: number }>(
        `SELECT 1 AS one FROM repositories r WHERE r.name = ?
           AND (EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)
             OR EXISTS (SELECT 1 FROM repository_blobs l WHERE l.repository_id = r.id))`,
      ),
      listRepos: db.prepare<[string, number], { name: string }>(
        `SELECT r.name FROM repositories r WHERE r.name > ?
           AND (EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)
             OR EXISTS (SELECT 1 FROM repository_blobs l WHERE l.repository_id = r.id))
         ORDER BY r.name LIMIT ?`,
      ),
      referrers: db.prepare<[string, string], ManifestRow>(
        `SELECT ${MANIFEST_COLUMNS} FROM repositories r JOIN manifests m ON m.repository_id = r.id
         WHERE r.name = ? AND m.subject = ? ORDER BY m.created_at, m.digest`,
      ),
    };
  }

  private repositoryId(name: string): number | null {
    return this.stmt.repoId.get(name)?.id ?? null;
  }

  private ensureRepository(name: string, now: number): number {
    this.stmt.insertRepo.run(name, now);
    const id = this.repositoryId(name);
    if (id === null) throw new Error(`repository ${name} vanished inside its own transaction`);
    return id;
  }

  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    const now = Date.now();
    this.db
      .transaction(() => {
        const repoId = this.ensureRepository(repository, now);
        this.stmt.insertBlob.run(digest, size, now);
        this.stmt.insertLink.run(repoId, digest, now);
      })
      .immediate();
  }

  async linkedBlobSize(repository: string, digest: string): Promise<number | null> {
    return this.stmt.linkedSize.get(repository, digest)?.size ?? null;
  }

  async unlinkBlob(repository: string, digest: string): Promise<DeleteOutcome> {
    return this.db
      .transaction((): DeleteOutcome => {
        const repoId = this.repositoryId(repository);
        if (repoId === null || !this.stmt.isLinked.get(repoId, digest)) return { status: 'unknown' };
        const by = this.stmt.blobReferrers.all(repoId, digest).map((r) => r.manifest_digest);
        if (by.length > 0) return { status: 'referenced', by };
        this.stmt.deleteLink.run(repoId, digest);
        return { status: 'deleted' };
      })
      .immediate();
  }

  async putManifest(input: PutManifestInput): Promise<void> {
    const { record, content, references, tag } = input;
    this.db
      .transaction(() => {
        const repoId = this.ensureRepository(record.repository, record.createdAt);
        for (const ref of references) this.assertPresent(repoId, ref);
        this.stmt.insertContent.run(record.digest, content);
        this.stmt.insertManifest.run(
          repoId,
          record.digest,
          record.mediaType,
          record.size,
          record.artifactType,
          record.configDigest,
          record.configMediaType,
          record.subject,
          record.annotations ? JSON.stringify(record.annotations) : null,
          record.createdAt,
        );
        for (const ref of references) this.stmt.insertReference.run(repoId, record.digest, ref.kind, ref.digest);
        if (tag !== undefined) this.stmt.upsertTag.run(repoId, tag, record.digest, record.createdAt);
      })
      .immediate();
  }

  private assertPresent(repoId: number, ref: ManifestReference): void {
    const present = ref.kind === 'blob' ? this.stmt.isLinked.get(repoId, ref.digest) : this.stmt.hasManifest.get(repoId, ref.digest);
    if (!present) throw new MissingReferenceError(ref);
  }

  async getManifest(repository: string, digest: string): Promise<StoredManifest | null> {
    const row = this.stmt.getManifest.get(repository, digest);
    return row ? { ...toRecord(repository, row), content: row.content } : null;
  }

  async statManifest(repository: string, digest: string): Promise<ManifestRecord | null> {
    const row = this.stmt.statManifest.get(repository, digest);
    return row ? toRecord(repository, row) : null;
  }

  async resolveTag(repository: string, tag: string): Promise<string | null> {
    return this.stmt.resolveTag.get(repository, tag)?.manifest_digest ?? null;
  }

  async deleteManifest(repository: string, digest: string): Promise<DeleteOutcome> {
    return this.db
      .transaction((): DeleteOutcome => {
        const repoId = this.repositoryId(repository);
        if (repoId === null || !this.stmt.hasManifest.get(repoId, digest)) return { status: 'unknown' };
        const by = this.stmt.manifestReferrers.all(repoId, digest).map((r) => r.manifest_digest);
        if (by.length > 0) return { status: 'referenced', by };
        // Tags and outgoing references go with it (ON DELETE CASCADE).
        this.stmt.deleteManifest.run(repoId, digest);
        if (!this.stmt.contentInUse.get(digest)) this.stmt.deleteContent.run(digest);
        return { status: 'deleted' };
      })
      .immediate();
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const repoId = this.repositoryId(repository);
    if (repoId === null) return false;
    return this.stmt.deleteTag.run(repoId, tag).changes > 0;
  }

  /** A repository exists while it holds content: the catalog and tag listings agree on that. */
  async repositoryExists(repository: string): Promise<boolean> {
    return this.stmt.hasContent.get(repository) !== undefined;
  }

  async listTags(repository: string, page: Page): Promise<string[]> {
    const repoId = this.repositoryId(repository);
    if (repoId === null) return [];
    return this.stmt.listTags.all(repoId, page.last ?? '', page.limit).map((r) => r.name);
  }

  async listRepositories(page: Page): Promise<string[]> {
    return this.stmt.listRepos.all(page.last ?? '', page.limit).map((r) => r.name);
  }

  async listReferrers(repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]> {
    const rows = this.stmt.referrers.all(repository, subject);
    const records = rows.map((row) => ({
      digest: row.digest,
      mediaType: row.media_type,
      size: row.size,
      artifactType: row.artifact_type,
      configMediaType: row.config_media_type,
      annotations: row.annotations ? (JSON.parse(row.annotations) as Record<string, string>) : null,
    }));
    if (artifactType === undefined) return records;
    return records.filter((r) => (r.artifactType ?? r.configMediaType) === artifactType);
  }

  async close(): Promise<void> {
    // The database handle is owned by whoever opened it.
  }
}

function toRecord(repository: string, row: ManifestRow): ManifestRecord {
  return {
    repository,
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    artifactType: row.artifact_type,
    configDigest: row.config_digest,
    configMediaType: row.config_media_type,
    subject: row.subject,
    annotations: row.annotations ? (JSON.parse(row.annotations) as Record<string, string>) : null,
    createdAt: row.created_at,
  };
}
