import { createHash } from 'node:crypto';
import { OwnerQuotaError, VersionLimitError, type ManifestRecord, type MetadataIndex } from '../../src/metadata/metadata-index';
import type { MetadataIndexHarness } from './metadata-index.contract';

function digest(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

function record(repository: string, seed: string): ManifestRecord {
  return {
    repository,
    digest: digest(seed),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 2,
    artifactType: null,
    configDigest: null,
    configMediaType: null,
    subject: null,
    annotations: null,
    createdAt: Date.now(),
  };
}

/**
 * The metadata index's owner usage and version limits (quotas, design: src/quotas/quota-limits.ts): the counter
 * kept with the links always equals the figure computed from scratch, and the limits hold under concurrency.
 */
export function ownerUsageContract(kind: string, harness: MetadataIndexHarness): void {
  describe(`MetadataIndex owner usage: ${kind}`, () => {
    let index: MetadataIndex;
    beforeEach(async () => {
      index = await harness.create();
    });
    afterEach(async () => {
      await harness.destroy(index);
    });

    async function expectExact(owner: string, bytes: number): Promise<void> {
      expect({ owner, counter: await index.ownerUsage(owner), scratch: await index.recomputeOwnerUsage(owner) }).toEqual({
        owner,
        counter: bytes,
        scratch: bytes,
      });
    }

    it('counts a blob once per owner however many of its repositories link it, and frees it with the last link', async () => {
      const shared = digest('shared');
      await index.linkBlob('acme/one', shared, 100);
      await index.linkBlob('acme/two', shared, 100);
      await index.linkBlob('acme/two', shared, 100); // again: nothing new
      await index.linkBlob('acme/deep/three', digest('own'), 7);
      await index.linkBlob('acme', digest('top'), 3); // a name without a slash is its own owner
      await index.linkBlob('acmeish/one', shared, 100); // another owner, whose name starts the same
      await index.linkBlob('other/one', shared, 100);
      await expectExact('acme', 110);
      await expectExact('acmeish', 100);
      await expectExact('other', 100);
      expect(await index.blobCharge('acme/new', shared, 100)).toEqual({ owner: 'acme', usedBytes: 110, addedBytes: 0 });
      expect(await index.blobCharge('acme/new', digest('fresh'), 9)).toEqual({ owner: 'acme', usedBytes: 110, addedBytes: 9 });
      expect((await index.unlinkBlob('acme/one', shared)).status).toBe('deleted');
      await expectExact('acme', 110); // acme/two still links it
      expect((await index.unlinkBlob('acme/two', shared)).status).toBe('deleted');
      await expectExact('acme', 10);
      await expectExact('other', 100);
    });

    it('a sweep frees the blob for every owner that linked it; soft delete and restore change nothing', async () => {
      const layer = digest('layer');
      await index.linkBlob('acme/one', layer, 50);
      await index.linkBlob('beta/one', layer, 50);
      const image = record('acme/one', 'image');
      await index.putManifest({ record: image, content: Buffer.from('{}'), references: [{ kind: 'blob', digest: layer }] });
      expect((await index.deleteManifest('acme/one', image.digest)).status).toBe('deleted');
      await expectExact('acme', 50);
      const now = Date.now() + 1000;
      const rules = { candidatesBefore: now, claimsBefore: now - 3_600_000, now };
      expect((await index.beginBlobDeletions([layer], rules)).get(layer)).toBeUndefined(); // the soft-deleted manifest still references it
      await expectExact('acme', 50);
      expect(await index.purgeDeletedManifests(now, 10, now)).toBe(1);
      expect((await index.beginBlobDeletions([layer], rules)).get(layer)).toBe(50);
      await expectExact('acme', 0);
      await expectExact('beta', 0);
      await index.finishBlobDeletions([layer]);
      await expectExact('acme', 0);
    });

    it('refuses a link past the owner quota, linking nothing and releasing the claim; a link of a blob it has is free', async () => {
      await index.linkBlob('acme/one', digest('a'), 60, { maxOwnerBytes: 100 });
      const over = digest('b');
      expect(await index.claimBlob(over, 'upload-1', Date.now())).toBe(true);
      await expect(index.linkBlob('acme/two', over, 41, { claim: 'upload-1', maxOwnerBytes: 100 })).rejects.toEqual(
        new OwnerQuotaError('acme', 60, 100, 41),
      );
      expect(await index.linkedBlobSize('acme/two', over)).toBeNull();
      expect(await index.repositoryExists('acme/two')).toBe(false);
      await expectExact('acme', 60);
      // The claim went with the refusal: linking with it again links nothing.
      expect(await index.linkBlob('acme/two', over, 41, { claim: 'upload-1' })).toBe(false);
      // Already the owner's: no new bytes, so no refusal even at the limit.
      expect(await index.linkBlob('acme/two', digest('a'), 60, { maxOwnerBytes: 60 })).toBe(true);
      expect(await index.linkBlob('acme/two', over, 40, { maxOwnerBytes: 100 })).toBe(true);
      await expectExact('acme', 100);
    });

    it('N links racing near the quota never take the owner past it', async () => {
      const size = 10;
      const limit = 55;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, n) => index.linkBlob(`race/r${n % 3}`, digest(`race-${n}`), size, { maxOwnerBytes: limit })),
      );
      const linked = outcomes.filter((o) => o.status === 'fulfilled').length;
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(OwnerQuotaError);
      expect(linked).toBe(5);
      await expectExact('race', linked * size);
    });

    it('refuses a new live version past maxVersions, writing nothing; a known one, or a deleted slot, is fine', async () => {
      const layer = digest('v-layer');
      await index.linkBlob('acme/app', layer, 5);
      const refs = [{ kind: 'blob' as const, digest: layer }];
      const push = (seed: string, tag?: string) =>
        index.putManifest({ record: record('acme/app', seed), content: Buffer.from(seed), references: refs, tag, maxVersions: 2 });
      await push('v1', 'one');
      await push('v2');
      await expect(push('v3', 'three')).rejects.toEqual(new VersionLimitError('acme/app', 2));
      expect(await index.resolveTag('acme/app', 'three')).toBeNull();
      expect(await index.getManifest('acme/app', digest('v3'))).toBeNull();
      await push('v2', 'again'); // already a live version: a tag push
      expect(await index.resolveTag('acme/app', 'again')).toBe(digest('v2'));
      expect(await index.liveVersionCounts('acme')).toEqual(new Map([['acme/app', 2]]));
      await index.deleteManifest('acme/app', digest('v1'));
      await push('v3', 'three');
      await expect(push('v1')).rejects.toBeInstanceOf(VersionLimitError); // a revive is a new live version
    });

    it('N manifest pushes racing near maxVersions never exceed it', async () => {
      const layer = digest('r-layer');
      await index.linkBlob('acme/race', layer, 5);
      const refs = [{ kind: 'blob' as const, digest: layer }];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, n) =>
          index.putManifest({ record: record('acme/race', `r${n}`), content: Buffer.from(`r${n}`), references: refs, maxVersions: 3 }),
        ),
      );
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(VersionLimitError);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
      expect((await index.liveVersionCounts('acme')).get('acme/race')).toBe(3);
    });
  });
}
