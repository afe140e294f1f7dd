import { createHash } from 'node:crypto';
import { MissingReferenceError, type ManifestRecord, type MetadataIndex } from '../../src/metadata/metadata-index';
import type { ManifestReference } from '../../src/oci/manifest';

export interface MetadataIndexHarness {
  create(): Promise<MetadataIndex>;
  destroy(index: MetadataIndex): Promise<void>;
}

function digest(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

function manifest(repository: string, seed: string, overrides: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    repository,
    digest: digest(seed),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 100 + seed.length,
    artifactType: null,
    configDigest: null,
    configMediaType: 'application/vnd.oci.image.config.v1+json',
    subject: null,
    annotations: null,
    createdAt: Date.now(),
    ...overrides,
  };
}

/** The MetadataIndex contract: every implementation runs exactly this suite. */
export function metadataIndexContract(kind: string, harness: MetadataIndexHarness): void {
  describe(`MetadataIndex contract: ${kind}`, () => {
    let index: MetadataIndex;
    beforeEach(async () => {
      index = await harness.create();
    });
    afterEach(async () => {
      await harness.destroy(index);
    });

    const config = digest('config');
    const layer = digest('layer');
    const refs: ManifestReference[] = [
      { digest: config, kind: 'blob' },
      { digest: layer, kind: 'blob' },
    ];

    async function pushImage(repository: string, seed: string, tag?: string, extra: Partial<ManifestRecord> = {}) {
      await index.linkBlob(repository, config, 10);
      await index.linkBlob(repository, layer, 20);
      const record = manifest(repository, seed, extra);
      await index.putManifest({ record, content: Buffer.from(seed), references: refs, tag });
      return record;
    }

    it('links blobs per repository: linked in one is unknown in another', async () => {
      await index.linkBlob('a/one', config, 10);
      expect(await index.linkedBlobSize('a/one', config)).toBe(10);
      expect(await index.linkedBlobSize('a/two', config)).toBeNull();
      await index.linkBlob('a/one', config, 10); // idempotent
      expect(await index.linkedBlobSize('a/one', config)).toBe(10);
    });

    it('records a manifest only when every referenced blob is linked in its repository', async () => {
      await index.linkBlob('a/one', config, 10);
      const record = manifest('a/one', 'm1');
      await expect(index.putManifest({ record, content: Buffer.from('m1'), references: refs, tag: 'v1' })).rejects.toBeInstanceOf(
        MissingReferenceError,
      );
      expect(await index.statManifest('a/one', record.digest)).toBeNull();
      expect(await index.resolveTag('a/one', 'v1')).toBeNull();
    });

    it('stores manifests with their content, resolves and moves tags', async () => {
      const m1 = await pushImage('a/one', 'm1', 'latest', { subject: digest('subj'), annotations: { k: 'v' } });
      const stored = await index.getManifest('a/one', m1.digest);
      expect(stored?.content.toString()).toBe('m1');
      expect(stored).toMatchObject({ digest: m1.digest, mediaType: m1.mediaType, size: m1.size, subject: digest('subj') });
      expect(stored?.annotations).toEqual({ k: 'v' });
      expect(await index.statManifest('a/one', m1.digest)).toMatchObject({ digest: m1.digest, size: m1.size });
      expect(await index.resolveTag('a/one', 'latest')).toBe(m1.digest);
      const tagged = await index.getTaggedManifest('a/one', 'latest');
      expect(tagged?.content.toString()).toBe('m1');
      expect(tagged).toMatchObject({ repository: 'a/one', digest: m1.digest, mediaType: m1.mediaType, size: m1.size });
      expect(tagged?.annotations).toEqual({ k: 'v' });
      const m2 = await pushImage('a/one', 'm2', 'latest');
      expect(await index.resolveTag('a/one', 'latest')).toBe(m2.digest);
      expect((await index.getTaggedManifest('a/one', 'latest'))?.content.toString()).toBe('m2');
      expect(await index.getManifest('a/two', m1.digest)).toBeNull();
      expect(await index.getTaggedManifest('a/two', 'latest')).toBeNull();
      expect(await index.getTaggedManifest('a/one', 'nope')).toBeNull();
    });

    it('refuses to unlink a blob a manifest still references, then allows it', async () => {
      const m = await pushImage('a/one', 'm1', 'v1');
      const outcome = await index.unlinkBlob('a/one', layer);
      expect(outcome).toEqual({ status: 'referenced', by: [m.digest] });
      expect(await index.linkedBlobSize('a/one', layer)).toBe(20);
      expect(await index.deleteManifest('a/one', m.digest)).toEqual({ status: 'deleted' });
      expect(await index.unlinkBlob('a/one', layer)).toEqual({ status: 'deleted' });
      expect(await index.unlinkBlob('a/one', layer)).toEqual({ status: 'unknown' });
    });

    it('deleting a manifest removes its tags; deleting a tag keeps the manifest', async () => {
      const m = await pushImage('a/one', 'm1', 'v1');
      await index.putManifest({ record: { ...m, createdAt: Date.now() }, content: Buffer.from('m1'), references: refs, tag: 'v2' });
      expect(await index.deleteTag('a/one', 'v2')).toBe(true);
      expect(await index.deleteTag('a/one', 'v2')).toBe(false);
      expect(await index.statManifest('a/one', m.digest)).not.toBeNull();
      expect(await index.deleteManifest('a/one', m.digest)).toEqual({ status: 'deleted' });
      expect(await index.resolveTag('a/one', 'v1')).toBeNull();
      expect(await index.deleteManifest('a/one', m.digest)).toEqual({ status: 'unknown' });
    });

    it('an index needs its children, and protects them from deletion', async () => {
      const child = await pushImage('a/one', 'child');
      const parent = manifest('a/one', 'parent', { mediaType: 'application/vnd.oci.image.index.v1+json', configMediaType: null });
      const childRef: ManifestReference[] = [{ digest: child.digest, kind: 'manifest' }];
      await expect(
        index.putManifest({ record: parent, content: Buffer.from('p'), references: [{ digest: digest('nope'), kind: 'manifest' }] }),
      ).rejects.toBeInstanceOf(MissingReferenceError);
      await index.putManifest({ record: parent, content: Buffer.from('p'), references: childRef, tag: 'multi' });
      expect(await index.deleteManifest('a/one', child.digest)).toEqual({ status: 'referenced', by: [parent.digest] });
      expect(await index.deleteManifest('a/one', parent.digest)).toEqual({ status: 'deleted' });
      expect(await index.deleteManifest('a/one', child.digest)).toEqual({ status: 'deleted' });
    });

    it('lists tags in lexical order, paginated by last and limit', async () => {
      const tags = ['b', 'a', 'c10', 'c2', 'Z', 'latest'];
      for (const t of tags) await pushImage('a/one', 'm1', t);
      const sorted = [...tags].sort();
      expect(await index.listTags('a/one', { limit: 100 })).toEqual(sorted);
      expect(await index.listTags('a/one', { limit: 2 })).toEqual(sorted.slice(0, 2));
      expect(await index.listTags('a/one', { last: sorted[1], limit: 3 })).toEqual(sorted.slice(2, 5));
      expect(await index.listTags('a/none', { limit: 10 })).toEqual([]);
      expect(await index.repositoryExists('a/one')).toBe(true);
      expect(await index.repositoryExists('a/none')).toBe(false);
    });

    it('takes a manifest that names the same blob twice (config and layer), and reports the first missing reference', async () => {
      await index.linkBlob('a/one', config, 10);
      const twice = manifest('a/one', 'twice');
      const same: ManifestReference[] = [
        { digest: config, kind: 'blob' },
        { digest: config, kind: 'blob' },
      ];
      await index.putManifest({ record: twice, content: Buffer.from('twice'), references: same, tag: 't' });
      expect(await index.resolveTag('a/one', 't')).toBe(twice.digest);
      expect(await index.unlinkBlob('a/one', config)).toEqual({ status: 'referenced', by: [twice.digest] });
      const missing: ManifestReference[] = [
        { digest: config, kind: 'blob' },
        { digest: digest('gone-1'), kind: 'blob' },
        { digest: digest('gone-2'), kind: 'manifest' },
      ];
      await expect(index.putManifest({ record: manifest('a/one', 'm3'), content: Buffer.from('m3'), references: missing })).rejects.toEqual(
        new MissingReferenceError(missing[1]!),
      );
    });

    it('lists repositories that hold content, paginated', async () => {
      for (const r of ['z/last', 'a/first', 'm/middle']) await index.linkBlob(r, config, 10);
      expect(await index.listRepositories({ limit: 10 })).toEqual(['a/first', 'm/middle', 'z/last']);
      expect(await index.listRepositories({ last: 'a/first', limit: 1 })).toEqual(['m/middle']);
    });

    it('finds referrers by subject within the repository, filtered by artifact type', async () => {
      const subject = digest('subject');
      const sbom = await pushImage('a/one', 'sbom', undefined, { subject, artifactType: 'application/spdx+json', annotations: { a: 'b' } });
      const sig = await pushImage('a/one', 'sig', undefined, { subject, configMediaType: 'application/vnd.example.sig' });
      await pushImage('a/two', 'other', undefined, { subject });
      const all = await index.listReferrers('a/one', subject);
      expect(all.map((r) => r.digest).sort()).toEqual([sbom.digest, sig.digest].sort());
      expect(all.find((r) => r.digest === sbom.digest)).toMatchObject({ artifactType: 'application/spdx+json', annotations: { a: 'b' } });
      expect((await index.listReferrers('a/one', subject, 'application/spdx+json')).map((r) => r.digest)).toEqual([sbom.digest]);
      expect((await index.listReferrers('a/one', subject, 'application/vnd.example.sig')).map((r) => r.digest)).toEqual([sig.digest]);
      expect(await index.listReferrers('a/one', digest('nothing'))).toEqual([]);
    });
  });
}
