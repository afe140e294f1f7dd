import { planRetention, type PlannedVersion, type RetentionPlan } from '../../src/retention/retention-planner';
import type { RetentionRules } from '../../src/retention/retention-policy';

const DAY = 86_400_000;
const NOW = 1_000 * DAY;
const NONE: RetentionRules = {
  keepTagged: [],
  deleteUntaggedAfterDays: null,
  keepHighestSemver: false,
  keepPulledWithinDays: null,
  excludeTags: [],
  detachReferrers: false,
};
const rules = (r: Partial<RetentionRules>): RetentionRules => ({ ...NONE, ...r });

let nextId = 1;
/** A version `daysAgo` old; its digest is its name, for readable expectations. */
function version(name: string, daysAgo: number, o: Partial<PlannedVersion> = {}): PlannedVersion {
  return {
    id: nextId++,
    digest: name,
    tags: [],
    updatedAt: NOW - daysAgo * DAY,
    parents: [],
    subject: null,
    immutableRule: null,
    pulledRecently: false,
    ...o,
  };
}
const deleted = (plan: RetentionPlan) => Object.fromEntries(plan.delete.map((d) => [d.digest, d.reason]));
const kept = (plan: RetentionPlan) => Object.fromEntries(plan.keep.map((d) => [d.digest, d.reason]));

describe('retention planner', () => {
  it('deletes untagged versions older than the limit, with their age as the reason', () => {
    const plan = planRetention(
      [version('old', 40), version('young', 3), version('tagged', 400, { tags: ['x'] })],
      rules({ deleteUntaggedAfterDays: 30 }),
      NOW,
    );
    expect(deleted(plan)).toEqual({ old: 'untagged, 40 days old' });
    expect(kept(plan)).toEqual({
      young: 'untagged, 3 days old (deleted after 30)',
      tagged: 'tagged x, which no keepTagged pattern matches',
    });
  });

  it('keeps the N most recent versions matching a pattern and deletes older matching ones; others stay', () => {
    const versions = [
      version('v1', 50, { tags: ['v1.0.0'] }),
      version('v2', 40, { tags: ['v1.1.0'] }),
      version('v3', 30, { tags: ['v1.2.0'] }),
      version('v4', 20, { tags: ['v1.3.0', 'stable'] }),
      version('main', 90, { tags: ['main'] }),
    ];
    const plan = planRetention(versions, rules({ keepTagged: [{ pattern: 'v*', count: 2 }] }), NOW);
    expect(deleted(plan)).toEqual({ v1: 'beyond the 2 most recent matching v*', v2: 'beyond the 2 most recent matching v*' });
    expect(kept(plan)).toMatchObject({ v3: 'one of the 2 most recent matching v*', v4: 'one of the 2 most recent matching v*' });
    expect(kept(plan).main).toContain('no keepTagged pattern');
  });

  it('breaks ties in recency by the newer version id, and a version matched twice goes only beyond every count', () => {
    const a = version('a', 10, { tags: ['v1', 'pr-1'] });
    const b = version('b', 10, { tags: ['v2'] });
    const c = version('c', 10, { tags: ['pr-2'] });
    const plan = planRetention(
      [a, b, c],
      rules({
        keepTagged: [
          { pattern: 'v*', count: 1 },
          { pattern: 'pr-*', count: 2 },
        ],
      }),
      NOW,
    );
    expect(deleted(plan)).toEqual({});
    expect(kept(plan).a).toBe('one of the 2 most recent matching pr-*');
    const strict = planRetention(
      [a, b, c],
      rules({
        keepTagged: [
          { pattern: 'v*', count: 1 },
          { pattern: 'pr-*', count: 1 },
        ],
      }),
      NOW,
    );
    expect(deleted(strict)).toEqual({ a: 'beyond the 1 most recent matching v*; beyond the 1 most recent matching pr-*' });
  });

  it('always keeps the highest semver tag, pre-releases and v prefix considered', () => {
    const versions = [
      version('rel', 100, { tags: ['v1.10.0'] }),
      version('pre', 1, { tags: ['v1.10.0-rc.1'] }),
      version('older', 2, { tags: ['v1.9.0'] }),
    ];
    const plan = planRetention(versions, rules({ keepTagged: [{ pattern: 'v*', count: 1 }], keepHighestSemver: true }), NOW);
    expect(kept(plan)).toEqual({ rel: 'highest semver tag v1.10.0', pre: 'one of the 1 most recent matching v*' });
    expect(deleted(plan)).toEqual({ older: 'beyond the 1 most recent matching v*' });
    // Without the rule the highest goes like any other.
    expect(Object.keys(deleted(planRetention(versions, rules({ keepTagged: [{ pattern: 'v*', count: 1 }] }), NOW)))).toEqual([
      'older',
      'rel',
    ]);
  });

  it('keeps what was pulled recently, what an exclusion names, and what an immutable tag protects', () => {
    const versions = [
      version('pulled', 90, { pulledRecently: true }),
      version('excluded', 90, { tags: ['v0.1', 'release-keep'] }),
      version('immutable', 90, { tags: ['v0.2'], immutableRule: 'immutable-tag rule 3 (organisation acme: v*)' }),
      version('gone', 90, { tags: ['v0.3'] }),
      version('new', 1, { tags: ['v0.4'] }),
    ];
    const plan = planRetention(
      versions,
      rules({ keepTagged: [{ pattern: 'v*', count: 1 }], deleteUntaggedAfterDays: 7, keepPulledWithinDays: 14, excludeTags: ['*-keep'] }),
      NOW,
    );
    expect(kept(plan)).toMatchObject({
      pulled: 'pulled within the last 14 days',
      excluded: 'tag release-keep matches excluded *-keep',
      immutable: 'immutable: immutable-tag rule 3 (organisation acme: v*)',
      new: 'one of the 1 most recent matching v*',
    });
    expect(deleted(plan)).toEqual({ gone: 'beyond the 1 most recent matching v*' });
  });

  it('never deletes an index child of a kept index, nor a referrer of a kept subject, however old and untagged', () => {
    const index = version('index', 90, { tags: ['v2'] });
    const amd64 = version('amd64', 90, { parents: ['index'] });
    const arm64 = version('arm64', 90, { parents: ['index'] });
    const signature = version('signature', 90, { subject: 'index' });
    const sbom = version('sbom', 90, { subject: 'amd64' });
    const stray = version('stray', 90);
    const plan = planRetention([index, amd64, arm64, signature, sbom, stray], rules({ deleteUntaggedAfterDays: 30 }), NOW);
    expect(deleted(plan)).toEqual({ stray: 'untagged, 90 days old' });
    expect(kept(plan)).toMatchObject({
      amd64: `in kept index ${index.id}`,
      arm64: `in kept index ${index.id}`,
      signature: `referrer of kept version ${index.id}`,
      sbom: `referrer of kept version ${amd64.id}`,
    });
  });

  it('deletes an index with its children and referrers as one group, ordered for the delete path', () => {
    const index = version('index', 90, { tags: ['v1'] });
    const amd64 = version('amd64', 1, { parents: ['index'] });
    const arm64 = version('arm64', 1, { parents: ['index'] });
    const signature = version('signature', 1, { subject: 'index' });
    const attestation = version('attestation', 1, { subject: 'signature' });
    const newer = version('newer', 1, { tags: ['v2'] });
    const plan = planRetention(
      [index, amd64, arm64, signature, attestation, newer],
      rules({ keepTagged: [{ pattern: 'v*', count: 1 }], deleteUntaggedAfterDays: 30 }),
      NOW,
    );
    expect(deleted(plan)).toEqual({
      index: 'beyond the 1 most recent matching v*',
      amd64: `in deleted index ${index.id}`,
      arm64: `in deleted index ${index.id}`,
      signature: `referrer of deleted version ${index.id}`,
      attestation: `referrer of deleted version ${signature.id}`,
    });
    expect(plan.groups).toHaveLength(1);
    const order = plan.delete.map((d) => d.digest);
    const before = (a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));
    before('attestation', 'signature');
    before('signature', 'index');
    before('index', 'amd64');
    before('index', 'arm64');
    expect(plan.groups[0]).toEqual(plan.delete.map((d) => d.id));
  });

  it('keeps a shared child while another index that contains it is kept', () => {
    const oldIndex = version('old-index', 90, { tags: ['v1'] });
    const newIndex = version('new-index', 1, { tags: ['v2'] });
    const shared = version('shared', 90, { parents: ['old-index', 'new-index'] });
    const only = version('only-old', 90, { parents: ['old-index'] });
    const plan = planRetention([oldIndex, newIndex, shared, only], rules({ keepTagged: [{ pattern: 'v*', count: 1 }] }), NOW);
    expect(Object.keys(deleted(plan)).sort()).toEqual(['old-index', 'only-old']);
    expect(kept(plan).shared).toBe(`in kept index ${newIndex.id}`);
  });

  it('keeps the subject of a referrer kept for its own sake, and then that subject keeps its children', () => {
    const index = version('index', 90, { tags: ['v1'] });
    const child = version('child', 90, { parents: ['index'] });
    const pinned = version('pinned-sig', 90, { subject: 'index', tags: ['sha256-x.sig'] });
    const plan = planRetention(
      [index, child, pinned, version('v2', 1, { tags: ['v2'] })],
      rules({ keepTagged: [{ pattern: 'v*', count: 1 }] }),
      NOW,
    );
    expect(deleted(plan)).toEqual({});
    expect(kept(plan)).toMatchObject({ index: `subject of kept referrer ${pinned.id}`, child: `in kept index ${index.id}` });
  });

  it('judges referrers of kept subjects on their own only when the policy detaches them', () => {
    const image = version('image', 90, { tags: ['v1'] });
    const oldSig = version('old-sig', 90, { subject: 'image' });
    const newSig = version('new-sig', 2, { subject: 'image' });
    const detached = planRetention([image, oldSig, newSig], rules({ deleteUntaggedAfterDays: 30, detachReferrers: true }), NOW);
    expect(deleted(detached)).toEqual({ 'old-sig': 'untagged, 90 days old' });
    expect(kept(detached)['new-sig']).toBe('untagged, 2 days old (deleted after 30)');
    expect(deleted(planRetention([image, oldSig, newSig], rules({ deleteUntaggedAfterDays: 30 }), NOW))).toEqual({});
  });

  it('deletes nothing under a policy without deleting rules', () => {
    const versions = [version('a', 900), version('b', 900, { tags: ['v1'] }), version('c', 900, { parents: ['a'] })];
    const plan = planRetention(versions, NONE, NOW);
    expect(plan.delete).toEqual([]);
    expect(plan.keep).toHaveLength(3);
  });

  it('treats a referrer whose subject is not a live version here as standing alone', () => {
    const plan = planRetention([version('dangling', 90, { subject: 'elsewhere' })], rules({ deleteUntaggedAfterDays: 30 }), NOW);
    expect(deleted(plan)).toEqual({ dangling: 'untagged, 90 days old' });
  });
});
