import type { Account } from '../../src/auth/stores/account-store';
import { createLogger } from '../../src/log';
import type { VersionRecord } from '../../src/metadata/versions';
import type { RetentionPolicy } from '../../src/retention/retention-policy';
import { RetentionRunner, type RetentionRunnerDependencies } from '../../src/retention/retention-runner';

/**
 * The runner between its plan and the delete path: a version changed after the run read it (a push tagged it) is
 * left alone, as is the rest of its group; unchanged groups are deleted as the system actor `retention`.
 */
const DAY_MS = 86_400_000;
const NOW = 100 * DAY_MS;

function version(id: number, tags: string[], updatedAt: number): VersionRecord {
  const digest = `sha256:${String(id).padStart(64, '0')}`;
  return {
    id,
    repository: 'acme/app',
    digest,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    configMediaType: null,
    subject: null,
    createdAt: updatedAt,
    updatedAt,
    deletedAt: null,
    tags,
  };
}

function runnerOver(read: VersionRecord[], current: Map<number, VersionRecord>) {
  const deleted: number[][] = [];
  const actors: unknown[] = [];
  const policy: RetentionPolicy = {
    scope: 'owner',
    name: 'acme',
    updatedAt: 0,
    rules: {
      keepTagged: [],
      deleteUntaggedAfterDays: 7,
      keepHighestSemver: false,
      keepPulledWithinDays: null,
      excludeTags: [],
      detachReferrers: false,
    },
  };
  const acme = { id: 1, name: 'acme', kind: 'org' } as Account;
  const deps: RetentionRunnerDependencies = {
    policies: { forOwner: async () => [policy], all: async () => [policy] },
    lease: { acquire: async () => true, release: async () => undefined },
    accounts: { accountByName: async (name) => (name === 'acme' ? acme : null) },
    packages: {
      listPackages: async () => [{ name: 'acme/app' }] as Awaited<ReturnType<RetentionRunnerDependencies['packages']['listPackages']>>,
      packageState: async () => ({ deletedAt: null }) as Awaited<ReturnType<RetentionRunnerDependencies['packages']['packageState']>>,
    },
    index: {
      listVersions: async () => ({ versions: read, total: read.length }),
      versionFacts: async (versions) =>
        versions.map(
          () =>
            ({ parents: [], referrers: {} }) as unknown as Awaited<
              ReturnType<RetentionRunnerDependencies['index']['versionFacts']>
            >[number],
        ),
      getVersion: async (_name, id) => current.get(id) ?? null,
    },
    downloads: { daily: async () => [] },
    immutable: { ruleFor: async () => null },
    versions: {
      deleteVersions: async (actor, _at, ids) => {
        actors.push(actor);
        deleted.push(ids);
        return ids;
      },
    },
    log: createLogger('silent'),
    clock: () => NOW,
  };
  return { runner: new RetentionRunner(deps), deleted, actors };
}

describe('RetentionRunner', () => {
  it('deletes what it planned, as retention; leaves a version tagged since it was read', async () => {
    const old = 50 * DAY_MS;
    const read = [version(3, [], old), version(2, [], old), version(1, ['v1'], old)];
    const tagged = { ...version(2, ['hotfix'], NOW - 1000) };
    const current = new Map([
      [3, read[0]!],
      [2, tagged],
      [1, read[2]!],
    ]);
    const { runner, deleted, actors } = runnerOver(read, current);
    const report = await runner.run({}, { dryRun: false });
    expect(deleted).toEqual([[3]]);
    expect(actors).toEqual([{ kind: 'system', name: 'retention' }]);
    expect(report).toMatchObject({ deleted: 1, failed: 1 });
    expect(report.packages[0]!.failed).toEqual([{ ids: [2], reason: 'version 2 changed since the run read it' }]);
  });

  it('a dry run deletes nothing and reads nothing twice', async () => {
    const read = [version(1, [], 0)];
    const { runner, deleted } = runnerOver(read, new Map());
    const report = await runner.run({}, { dryRun: true });
    expect(deleted).toEqual([]);
    expect(report.packages[0]!.delete.map((d) => d.reason)).toEqual(['untagged, 100 days old']);
  });
});
