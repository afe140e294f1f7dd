import { createHash } from 'node:crypto';
import { MissingReferenceError, TagKeptError, type ManifestRecord, type MetadataIndex } from '../../src/metadata/metadata-index';
import type { SweepRules } from '../../src/metadata/blob-lifecycle';
import type { ManifestReference } from '../../src/oci/manifest';
import { VersionInUse, VersionRestoreBlocked } from '../../src/metadata/versions';

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
      // In a repository nothing was ever pushed to: refused, and no repository is left behind.
      const elsewhere = manifest('a/new', 'm1');
      await expect(
        index.putManifest({ record: elsewhere, content: Buffer.from('m1'), references: refs, tag: 'v1' }),
      ).rejects.toBeInstanceOf(MissingReferenceError);
      expect(await index.repositoryExists('a/new')).toBe(false);
      expect(await index.listRepositories({ limit: 10 })).not.toContain('a/new');
    });

    it('records a sparse manifest whose references were never pushed, in a new repository too, references and all', async () => {
      const record = manifest('a/sparse', 'sparse');
      const outcome = await index.putManifest({ record, content: Buffer.from('sparse'), references: refs, tag: 'v1', sparse: true });
      expect(outcome).toEqual({ previousTagDigest: null });
      expect(await index.resolveTag('a/sparse', 'v1')).toBe(record.digest);
      expect((await index.getManifest('a/sparse', record.digest))?.content.toString()).toBe('sparse');
      // The missing blobs are still what it references: linked later, they cannot be unlinked from under it.
      await index.linkBlob('a/sparse', layer, 20);
      expect(await index.unlinkBlob('a/sparse', layer)).toMatchObject({ status: 'referenced' });
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

    it('tells a push what its tag named before: null for a new tag or none, the old digest for a moved one', async () => {
      await index.linkBlob('a/one', config, 10);
      await index.linkBlob('a/one', layer, 20);
      const put = (seed: string, tag?: string) =>
        index.putManifest({ record: manifest('a/one', seed), content: Buffer.from(seed), references: refs, tag });
      expect(await put('p1', 'v1')).toEqual({ previousTagDigest: null });
      expect(await put('p2', 'v1')).toEqual({ previousTagDigest: manifest('a/one', 'p1').digest });
      expect(await put('p2', 'v1')).toEqual({ previousTagDigest: manifest('a/one', 'p2').digest });
      expect(await put('p3')).toEqual({ previousTagDigest: null });
      expect(await put('p3', 'v2')).toEqual({ previousTagDigest: null });
    });

    it('journals each push (with its tag, what the tag named before, whether the version is new) and tag delete, until acknowledged', async () => {
      const first = await pushImage('a/journal', 'j1', 'v1');
      const second = await pushImage('a/journal', 'j2', 'v1');
      await pushImage('a/journal', 'j2', 'latest');
      // A missing reference writes nothing, and no journal entry.
      const orphan = manifest('a/journal', 'j3');
      await expect(
        index.putManifest({
          record: orphan,
          content: Buffer.from('j3'),
          references: [{ kind: 'blob', digest: digest('absent') }],
          tag: 'v9',
        }),
      ).rejects.toBeInstanceOf(MissingReferenceError);
      expect(await index.deleteTag('a/journal', 'latest')).toBe(true);
      expect(await index.deleteTag('a/journal', 'latest')).toBe(false);
      const changes = await index.changes(100);
      expect(changes.map((c) => [c.kind, c.digest, c.tag, c.previousDigest, c.newVersion])).toEqual([
        ['manifest.pushed', first.digest, 'v1', null, true],
        ['manifest.pushed', second.digest, 'v1', first.digest, true],
        ['manifest.pushed', second.digest, 'latest', null, false],
        ['tag.deleted', null, 'latest', second.digest, false],
      ]);
      expect(changes[0]).toMatchObject({ repository: 'a/journal', mediaType: first.mediaType, at: first.createdAt });
      expect((await index.changes(2)).map((c) => c.id)).toEqual(changes.slice(0, 2).map((c) => c.id));
      await index.acknowledgeChanges(changes.slice(0, 3).map((c) => c.id));
      await index.acknowledgeChanges([changes[0]!.id]);
      expect((await index.changes(100)).map((c) => c.id)).toEqual([changes[3]!.id]);
    });

    it('journals version deletes and restores, by the OCI API and by id', async () => {
      const image = await pushImage('a/journal', 'd1', 'v1');
      expect(await index.deleteManifest('a/journal', image.digest)).toEqual({ status: 'deleted' });
      const [version] = (await index.listVersions('a/journal', { state: 'deleted', limit: 1 })).versions;
      await index.restoreVersion('a/journal', version!.id, Date.now());
      await index.deleteVersion('a/journal', version!.id, { tree: false, detach: false, now: Date.now() });
      const kinds = (await index.changes(100)).map((c) => [c.kind, c.digest]);
      expect(kinds).toEqual([
        ['manifest.pushed', image.digest],
        ['version.deleted', image.digest],
        ['version.restored', image.digest],
        ['version.deleted', image.digest],
      ]);
    });

    it('finds several versions of a repository by digest in one lookup, with their manifests while live', async () => {
      const one = await pushImage('a/pushed', 'p1', 'v1');
      const two = await pushImage('a/pushed', 'p2', 'v2');
      const [newer, older] = (await index.listVersions('a/pushed', { state: 'active', limit: 2 })).versions;
      expect(await index.deleteManifest('a/pushed', two.digest)).toEqual({ status: 'deleted' });
      // Repeated and unknown digests, and more of them than one statement takes.
      const unknown = Array.from({ length: 150 }, (_, i) => digest(`none-${i}`));
      const found = await index.pushedVersions('a/pushed', [one.digest, ...unknown, two.digest, one.digest]);
      expect([...found.keys()].sort()).toEqual([one.digest, two.digest].sort());
      expect(found.get(one.digest)).toEqual({ versionId: older!.id, manifest: await index.getManifest('a/pushed', one.digest) });
      expect(found.get(one.digest)?.manifest).not.toBeNull();
      expect(found.get(two.digest)).toEqual({ versionId: newer!.id, manifest: null });
      expect(await index.pushedVersions('a/other', [one.digest])).toEqual(new Map());
      expect(await index.pushedVersions('a/pushed', [])).toEqual(new Map());
    });

    it('journals who made each change (an account name), and null when nobody is named', async () => {
      await index.linkBlob('a/who', config, 10);
      await index.linkBlob('a/who', layer, 20);
      const record = manifest('a/who', 'w1');
      await index.putManifest({ record, content: Buffer.from('w1'), references: refs, tag: 'v1', actor: 'alice' });
      await index.putManifest({ record, content: Buffer.from('w1'), references: refs, tag: 'v2' });
      expect(await index.deleteTag('a/who', 'v2', { actor: 'bob' })).toBe(true);
      expect(await index.deleteManifest('a/who', record.digest, 'carol')).toEqual({ status: 'deleted' });
      const [version] = (await index.listVersions('a/who', { state: 'deleted', limit: 1 })).versions;
      await index.restoreVersion('a/who', version!.id, Date.now(), 'dave');
      await index.deleteVersion('a/who', version!.id, { tree: false, detach: false, now: Date.now(), actor: 'erin' });
      await index.restoreVersion('a/who', version!.id, Date.now());
      await index.deleteAllVersions('a/who', Date.now(), 'frank');
      await index.restoreVersionsDeletedAt('a/who', (await index.getVersion('a/who', version!.id))!.deletedAt!, Date.now(), 'grace');
      const journal = (await index.changes(100)).filter((c) => c.repository === 'a/who');
      expect(journal.map((c) => [c.kind, c.actor])).toEqual([
        ['manifest.pushed', 'alice'],
        ['manifest.pushed', null],
        ['tag.deleted', 'bob'],
        ['version.deleted', 'carol'],
        ['version.restored', 'dave'],
        ['version.deleted', 'erin'],
        ['version.restored', null],
        ['version.deleted', 'frank'],
        ['version.restored', 'grace'],
      ]);
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

    it('keeps an immutable tag where it points (keepTag): another digest is refused with nothing written', async () => {
      const first = await pushImage('a/kept', 'first', 'v1');
      const second = manifest('a/kept', 'second');
      await expect(
        index.putManifest({ record: second, content: Buffer.from('second'), references: refs, tag: 'v1', keepTag: true }),
      ).rejects.toEqual(new TagKeptError('v1', first.digest));
      expect(await index.resolveTag('a/kept', 'v1')).toBe(first.digest);
      expect(await index.getManifest('a/kept', second.digest)).toBeNull();
      await index.putManifest({ record: first, content: Buffer.from('first'), references: refs, tag: 'v1', keepTag: true });
      await index.putManifest({ record: second, content: Buffer.from('second'), references: refs, tag: 'v2', keepTag: true });
      expect(await index.resolveTag('a/kept', 'v2')).toBe(second.digest);
    });

    describe('garbage collection bookkeeping (src/gc/collector.ts)', () => {
      const rulesAt = (now: number) => ({ candidatesBefore: now, claimsBefore: now - 3_600_000, now });
      const beginBlobDeletion = async (candidate: string, rules: SweepRules) =>
        (await index.beginBlobDeletions([candidate], rules)).get(candidate) ?? null;

      it('a linked blob is a candidate; unreferenced and old enough it is unlinked everywhere and marked, then forgotten', async () => {
        await index.linkBlob('a/one', layer, 20);
        await index.linkBlob('a/two', layer, 20);
        const now = Date.now() + 1000;
        expect(await index.blobCandidates(now - 60_000, 10, '')).toEqual([]);
        expect(await index.blobCandidates(now, 10, '')).toEqual([layer]);
        expect(await beginBlobDeletion(layer, rulesAt(now - 60_000))).toBeNull(); // within the grace period
        expect(await beginBlobDeletion(layer, rulesAt(now))).toBe(20);
        expect(await index.linkedBlobSize('a/one', layer)).toBeNull();
        expect(await index.linkedBlobSize('a/two', layer)).toBeNull();
        // Being deleted: no link may be made, no upload may claim it, and a stopped sweep finds it again.
        expect(await index.linkBlob('a/three', layer, 20, { existing: true })).toBe(false);
        expect(await index.linkBlob('a/three', layer, 20)).toBe(false);
        expect(await index.claimBlob(layer, 'upload-1', now)).toBe(false);
        expect(await index.blobCandidates(0, 10, '')).toEqual([layer]);
        expect(await beginBlobDeletion(layer, rulesAt(now))).toBe(20);
        await index.finishBlobDeletions([layer]);
        expect(await index.blobCandidates(now, 10, '')).toEqual([]);
        expect(await index.knownBlobs([layer, config])).toEqual(new Set());
        // Gone: a mount links nothing, an upload claims and links it anew.
        expect(await index.linkBlob('a/three', layer, 20, { existing: true })).toBe(false);
        expect(await index.claimBlob(layer, 'upload-2', now)).toBe(true);
        expect(await index.linkBlob('a/three', layer, 20, { claim: 'upload-2' })).toBe(true);
        expect(await index.linkedBlobSize('a/three', layer)).toBe(20);
        // A claim is released by its link: linking with it again is refused.
        expect(await index.linkBlob('a/three', layer, 20, { claim: 'upload-2' })).toBe(false);
      });

      it('a referenced blob stops being a candidate; a claimed one is skipped until its claim expires', async () => {
        await pushImage('a/one', 'kept');
        const now = Date.now() + 1000;
        expect(await beginBlobDeletion(layer, rulesAt(now))).toBeNull();
        expect(await index.blobCandidates(now, 10, '')).toEqual([config]);
        const loose = digest('claimed');
        await index.linkBlob('a/one', loose, 5);
        expect(await index.claimBlob(loose, 'upload-3', now - 10)).toBe(true);
        expect(await beginBlobDeletion(loose, rulesAt(now))).toBeNull();
        expect(await index.linkedBlobSize('a/one', loose)).toBe(5);
        // The claim's upload died an hour ago: the blob goes.
        expect(await beginBlobDeletion(loose, { candidatesBefore: now, claimsBefore: now, now })).toBe(5);
      });

      it('marks a batch for deletion in one go: the unreferenced, unclaimed, old enough ones, with their sizes', async () => {
        await pushImage('a/one', 'kept');
        const [gone, also, claimed] = [digest('gone'), digest('also gone'), digest('claimed')];
        await index.linkBlob('a/one', gone, 3);
        await index.linkBlob('a/two', also, 4);
        await index.linkBlob('a/one', claimed, 5);
        const now = Date.now() + 1000;
        expect(await index.claimBlob(claimed, 'upload-6', now)).toBe(true);
        const marked = await index.beginBlobDeletions([gone, layer, claimed, also, digest('never seen')], rulesAt(now));
        expect(marked).toEqual(
          new Map([
            [gone, 3],
            [also, 4],
          ]),
        );
        expect(await index.linkedBlobSize('a/one', gone)).toBeNull();
        expect(await index.linkedBlobSize('a/one', claimed)).toBe(5);
        await index.finishBlobDeletions([gone, also]);
        expect(await index.knownBlobs([gone, also, claimed, layer])).toEqual(new Set([claimed, layer]));
        expect(await index.beginBlobDeletions([], rulesAt(now))).toEqual(new Map());
      });

      it('drops the referenced candidates of a batch in one go and returns the others', async () => {
        await pushImage('a/one', 'kept');
        const loose = digest('loose');
        await index.linkBlob('a/one', loose, 5);
        const now = Date.now() + 1000;
        expect(await index.blobCandidates(now, 10, '')).toEqual([config, layer, loose].sort());
        expect(await index.dropReferencedCandidates([layer, loose, config])).toEqual([loose]);
        expect(await index.blobCandidates(now, 10, '')).toEqual([loose]);
        expect(await index.dropReferencedCandidates([])).toEqual([]);
        expect(await beginBlobDeletion(loose, rulesAt(now))).toBe(5);
      });

      it('purges manifests deleted before the window, their blobs becoming candidates; a revived one stays', async () => {
        const gone = await pushImage('a/one', 'gone');
        const revived = await pushImage('a/two', 'revived');
        const now = Date.now() + 1000;
        for (const record of [gone, revived]) {
          await beginBlobDeletion(config, rulesAt(now)); // drops the referenced candidates
          expect(await index.deleteManifest(record.repository, record.digest)).toEqual({ status: 'deleted' });
        }
        await index.putManifest({ record: revived, content: Buffer.from('revived'), references: refs });
        expect(await index.garbageEstimate(rulesAt(now + 1000), now + 1000)).toMatchObject({ manifests: 1 });
        expect(await index.purgeDeletedManifests(now + 1000, 10, now + 1000)).toBe(1);
        expect(await index.getManifest('a/two', revived.digest)).not.toBeNull();
        expect(await index.listVersions('a/one', { state: 'deleted', limit: 10 })).toEqual({ versions: [], total: 0 });
        // Still referenced by the revived manifest: candidates, but not garbage.
        expect(await index.blobCandidates(now + 1000, 10, '')).toEqual([config, layer].sort());
        expect(await beginBlobDeletion(layer, rulesAt(now + 1000))).toBeNull();
      });

      it('adopts a stored object no row knows as being deleted, unless claimed', async () => {
        const orphan = digest('orphan');
        const claimed = digest('claimed orphan');
        const now = Date.now();
        expect(await index.claimBlob(claimed, 'upload-4', now)).toBe(true);
        expect(await index.adoptOrphanBlob(claimed, 3, rulesAt(now))).toBe(false);
        expect(await index.adoptOrphanBlob(orphan, 3, rulesAt(now))).toBe(true);
        expect(await index.claimBlob(orphan, 'upload-5', now)).toBe(false);
        await index.finishBlobDeletions([orphan]);
        expect(await index.knownBlobs([orphan])).toEqual(new Set());
        expect(await index.claimBlob(orphan, 'upload-5', now)).toBe(true);
      });
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
    describe('versions', () => {
      const INDEX = 'application/vnd.oci.image.index.v1+json';

      /** A two-platform index over two images, tagged `multi`, with a signature on the index. */
      async function pushTree(repository: string) {
        const amd = await pushImage(repository, 'amd64');
        const arm = await pushImage(repository, 'arm64');
        const content = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: INDEX,
            manifests: [
              { mediaType: amd.mediaType, digest: amd.digest, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
              { mediaType: arm.mediaType, digest: arm.digest, size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
            ],
          }),
        );
        const parent = manifest(repository, 'index', { mediaType: INDEX, configMediaType: null, size: content.length });
        const children: ManifestReference[] = [amd, arm].map((m) => ({ digest: m.digest, kind: 'manifest' }));
        await index.putManifest({ record: parent, content, references: children, tag: 'multi' });
        const sig = await pushImage(repository, 'sig', undefined, { subject: parent.digest, artifactType: 'application/vnd.dev.cosign' });
        const id = async (d: string) => (await index.listVersions(repository, { state: 'active', digest: d, limit: 1 })).versions[0]!.id;
        return {
          amd,
          arm,
          parent,
          sig,
          ids: { amd: await id(amd.digest), arm: await id(arm.digest), parent: await id(parent.digest), sig: await id(sig.digest) },
        };
      }

      it('gives each manifest an integer id, unique across repositories, newest first, paged with a total', async () => {
        const a = await pushImage('a/one', 'm1', 'v1');
        const b = await pushImage('a/one', 'm2');
        await pushImage('a/two', 'm1', 'v1');
        const listed = await index.listVersions('a/one', { state: 'active', limit: 10 });
        expect(listed.total).toBe(2);
        expect(listed.versions.map((v) => v.digest)).toEqual([b.digest, a.digest]);
        expect(listed.versions[1]).toMatchObject({ repository: 'a/one', tags: ['v1'], deletedAt: null, mediaType: a.mediaType });
        const other = await index.listVersions('a/two', { state: 'active', limit: 10 });
        const ids = [...listed.versions, ...other.versions].map((v) => v.id);
        expect(new Set(ids).size).toBe(3);
        ids.forEach((id) => expect(Number.isInteger(id)).toBe(true));
        expect(await index.getVersion('a/one', listed.versions[0]!.id)).toMatchObject({ digest: b.digest });
        expect(await index.getVersion('a/two', listed.versions[0]!.id)).toBeNull();
        const second = await index.listVersions('a/one', { state: 'active', limit: 1, offset: 1 });
        expect(second).toMatchObject({ total: 2, versions: [{ digest: a.digest }] });
        const keyset = await index.listVersions('a/one', { state: 'active', limit: 5, beforeId: listed.versions[0]!.id });
        expect(keyset.versions.map((v) => v.digest)).toEqual([a.digest]);
        expect((await index.listVersions('a/one', { state: 'active', tagged: true, limit: 5 })).versions.map((v) => v.digest)).toEqual([
          a.digest,
        ]);
        expect((await index.listVersions('a/one', { state: 'active', tagged: false, limit: 5 })).versions.map((v) => v.digest)).toEqual([
          b.digest,
        ]);
        expect(await index.listVersions('a/none', { state: 'active', limit: 5 })).toEqual({ versions: [], total: 0 });
      });

      it('a soft-deleted manifest stops resolving and leaves the listings; a restore brings it and its tags back', async () => {
        const subject = await pushImage('a/one', 'm1', 'v1');
        await index.putManifest({ record: { ...subject, createdAt: Date.now() }, content: Buffer.from('m1'), references: refs, tag: 'v2' });
        const sbom = await pushImage('a/one', 'sbom', undefined, { subject: subject.digest, artifactType: 'application/spdx+json' });
        const [sbomVersion] = (await index.listVersions('a/one', { state: 'active', digest: sbom.digest, limit: 1 })).versions;
        // A second earlier than the subject's delete below: a restore brings back only what went at the same instant.
        expect(await index.deleteVersion('a/one', sbomVersion!.id, { tree: false, detach: true, now: Date.now() - 1000 })).toEqual([
          sbomVersion!.id,
        ]);
        expect(await index.listReferrers('a/one', subject.digest)).toEqual([]);
        expect(await index.deleteManifest('a/one', subject.digest)).toEqual({ status: 'deleted' });
        expect(await index.getManifest('a/one', subject.digest)).toBeNull();
        expect(await index.statManifest('a/one', subject.digest)).toBeNull();
        expect(await index.getTaggedManifest('a/one', 'v1')).toBeNull();
        expect(await index.resolveTag('a/one', 'v2')).toBeNull();
        expect(await index.listTags('a/one', { limit: 10 })).toEqual([]);
        const deleted = await index.listVersions('a/one', { state: 'deleted', limit: 10 });
        expect(deleted.total).toBe(2);
        const version = deleted.versions.find((v) => v.digest === subject.digest)!;
        expect(version.tags).toEqual(['v1', 'v2']);
        expect(version.deletedAt).toEqual(expect.any(Number));
        expect((await index.listVersions('a/one', { state: 'active', limit: 10 })).total).toBe(0);
        // v2 moves on while the version is deleted: the restore keeps the newer target and says so.
        const other = await pushImage('a/one', 'm2', 'v2');
        const restored = await index.restoreVersion('a/one', version.id, Date.now());
        expect(restored).toEqual({ restored: [version.id], tagsRestored: ['v1'], tagsMoved: [{ tag: 'v2', digest: other.digest }] });
        expect(await index.resolveTag('a/one', 'v1')).toBe(subject.digest);
        expect(await index.resolveTag('a/one', 'v2')).toBe(other.digest);
        expect((await index.getManifest('a/one', subject.digest))?.content.toString()).toBe('m1');
        expect(await index.getVersion('a/one', version.id)).toMatchObject({ deletedAt: null, tags: ['v1'] });
        expect(await index.restoreVersion('a/one', version.id, Date.now())).toEqual({ restored: [], tagsRestored: [], tagsMoved: [] });
        expect(await index.restoreVersion('a/one', 999_999, Date.now())).toBeNull();
      });

      it('pushing a deleted digest again revives the same version id', async () => {
        const m = await pushImage('a/one', 'm1', 'v1');
        const [before] = (await index.listVersions('a/one', { state: 'active', limit: 1 })).versions;
        expect(await index.deleteManifest('a/one', m.digest)).toEqual({ status: 'deleted' });
        expect(await index.deleteManifest('a/one', m.digest)).toEqual({ status: 'unknown' });
        await pushImage('a/one', 'm1', 'v3');
        const [after] = (await index.listVersions('a/one', { state: 'active', limit: 1 })).versions;
        expect(after).toMatchObject({ id: before!.id, deletedAt: null, tags: ['v3'] });
        expect(await index.resolveTag('a/one', 'v3')).toBe(m.digest);
      });

      it('an OCI delete frees the blobs for unlinking; a restore after that is refused, naming them', async () => {
        const m = await pushImage('a/one', 'm1', 'v1');
        const [version] = (await index.listVersions('a/one', { state: 'active', limit: 1 })).versions;
        expect(await index.deleteManifest('a/one', m.digest)).toEqual({ status: 'deleted' });
        expect(await index.unlinkBlob('a/one', layer)).toEqual({ status: 'deleted' });
        const refused = index.restoreVersion('a/one', version!.id, Date.now());
        await expect(refused).rejects.toBeInstanceOf(VersionRestoreBlocked);
        await expect(refused).rejects.toMatchObject({ digest: m.digest, missing: [layer] });
        expect(await index.getManifest('a/one', m.digest)).toBeNull();
      });

      it('refuses to delete a child of a live index or a subject of live referrers, naming them, unless the whole tree goes', async () => {
        const { amd, parent, sig, ids } = await pushTree('a/one');
        const child = index.deleteVersion('a/one', ids.amd, { tree: false, detach: false, now: Date.now() });
        await expect(child).rejects.toBeInstanceOf(VersionInUse);
        await expect(child).rejects.toMatchObject({ digest: amd.digest, parents: [parent.digest] });
        // Even as a tree: the index above it is not part of its tree.
        await expect(index.deleteVersion('a/one', ids.amd, { tree: true, detach: false, now: Date.now() })).rejects.toBeInstanceOf(
          VersionInUse,
        );
        await expect(index.deleteVersion('a/one', ids.parent, { tree: false, detach: false, now: Date.now() })).rejects.toMatchObject({
          digest: parent.digest,
          referrers: [sig.digest],
        });
        expect(await index.getManifest('a/one', amd.digest)).not.toBeNull();
        const deleted = await index.deleteVersion('a/one', ids.parent, { tree: true, detach: false, now: Date.now() });
        expect(deleted).toEqual([ids.amd, ids.arm, ids.parent, ids.sig].sort((x, y) => x - y));
        expect(await index.resolveTag('a/one', 'multi')).toBeNull();
        expect((await index.listVersions('a/one', { state: 'active', limit: 10 })).total).toBe(0);
        expect(await index.deleteVersion('a/one', ids.parent, { tree: true, detach: false, now: Date.now() })).toBeNull();
        const restored = await index.restoreVersion('a/one', ids.parent, Date.now());
        expect(restored?.restored).toEqual(deleted);
        expect(restored?.tagsRestored).toEqual(['multi']);
        expect(await index.resolveTag('a/one', 'multi')).toBe(parent.digest);
        expect((await index.listReferrers('a/one', parent.digest)).map((r) => r.digest)).toEqual([sig.digest]);
      });

      it('keeps a signature of a live manifest from a delete of untagged versions unless asked to detach it', async () => {
        const { parent, sig, ids } = await pushTree('a/one');
        const alone = index.deleteVersion('a/one', ids.sig, { tree: false, detach: false, now: Date.now() });
        await expect(alone).rejects.toBeInstanceOf(VersionInUse);
        await expect(alone).rejects.toMatchObject({ digest: sig.digest, parents: [], referrers: [], subject: parent.digest });
        // Its own tree is itself: no way around the subject.
        await expect(index.deleteVersion('a/one', ids.sig, { tree: true, detach: false, now: Date.now() })).rejects.toBeInstanceOf(
          VersionInUse,
        );
        expect((await index.listReferrers('a/one', parent.digest)).map((r) => r.digest)).toEqual([sig.digest]);
        expect(await index.deleteVersion('a/one', ids.sig, { tree: false, detach: true, now: Date.now() })).toEqual([ids.sig]);
        expect(await index.listReferrers('a/one', parent.digest)).toEqual([]);
      });

      it('states each version: size, platform from its parent, parents, referrers by artifact type; finds orphans', async () => {
        const { amd, arm, parent, sig, ids } = await pushTree('a/one');
        const loose = await pushImage('a/one', 'loose');
        const amdFacts = (await index.versionFacts([(await index.getVersion('a/one', ids.amd))!]))[0]!;
        expect(amdFacts).toEqual({
          size: amd.size + 10 + 20,
          platform: { os: 'linux', architecture: 'amd64' },
          parents: [{ id: ids.parent, digest: parent.digest }],
          referrers: {},
        });
        const armFacts = (await index.versionFacts([(await index.getVersion('a/one', ids.arm))!]))[0]!;
        expect(armFacts.platform).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
        const parentFacts = (await index.versionFacts([(await index.getVersion('a/one', ids.parent))!]))[0]!;
        expect(parentFacts).toEqual({
          size: parent.size,
          platform: null,
          parents: [],
          referrers: { 'application/vnd.dev.cosign': [{ id: ids.sig, digest: sig.digest }] },
        });
        // A page at once states each version as one at a time does, in the page's order.
        const page = (await index.listVersions('a/one', { state: 'active', limit: 10 })).versions;
        expect(page).toHaveLength(5);
        const oneByOne: unknown[] = [];
        for (const v of page) oneByOne.push((await index.versionFacts([v]))[0]);
        expect(await index.versionFacts(page)).toEqual(oneByOne);
        expect(await index.versionFacts([])).toEqual([]);
        const orphans = await index.listVersions('a/one', { state: 'active', orphaned: true, limit: 10 });
        expect(orphans.versions.map((v) => v.digest)).toEqual([loose.digest]);
        const untagged = await index.listVersions('a/one', { state: 'active', tagged: false, limit: 10 });
        expect(untagged.versions.map((v) => v.digest).sort()).toEqual([amd.digest, arm.digest, sig.digest, loose.digest].sort());
      });

      it('deletes every version of a repository at once and restores those deleted then', async () => {
        await pushTree('a/one');
        const loose = await pushImage('a/one', 'loose');
        const [looseVersion] = (await index.listVersions('a/one', { state: 'active', digest: loose.digest, limit: 1 })).versions;
        await index.deleteVersion('a/one', looseVersion!.id, { tree: false, detach: false, now: 1000 });
        expect(await index.deleteAllVersions('a/one', 2000)).toBe(4);
        expect(await index.repositoryExists('a/one')).toBe(true); // its blobs are still linked
        expect(await index.resolveTag('a/one', 'multi')).toBeNull();
        const restored = await index.restoreVersionsDeletedAt('a/one', 2000, 3000);
        expect(restored.restored).toHaveLength(4);
        expect(restored.tagsRestored).toEqual(['multi']);
        expect((await index.listVersions('a/one', { state: 'deleted', limit: 10 })).versions.map((v) => v.digest)).toEqual([loose.digest]);
      });
    });
  });
}
