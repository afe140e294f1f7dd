import { compareSemver, highestSemverTag, parseSemver, type SemanticVersion } from '../../src/retention/semver';

const v = (tag: string): SemanticVersion => {
  const parsed = parseSemver(tag);
  if (!parsed) throw new Error(`${tag} is not a semantic version`);
  return parsed;
};

describe('semantic-version tags', () => {
  it('parses releases and pre-releases, with or without v', () => {
    expect(v('1.2.3')).toEqual({ major: 1n, minor: 2n, patch: 3n, prerelease: [] });
    expect(v('v10.0.1-rc.1')).toEqual({ major: 10n, minor: 0n, patch: 1n, prerelease: ['rc', '1'] });
    for (const tag of ['latest', '1.2', '01.2.3', '1.2.3-', '1.2.3-01', 'V1.2.3', 'vv1.2.3', '1.2.3.4', '1.2.3-a..b']) {
      expect(parseSemver(tag)).toBeNull();
    }
  });

  it('orders as semver.org says, pre-releases below their release', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.2.0',
      '1.10.0',
      '2.0.0',
    ];
    for (let i = 0; i + 1 < ordered.length; i++) {
      expect(compareSemver(v(ordered[i] as string), v(ordered[i + 1] as string))).toBeLessThan(0);
      expect(compareSemver(v(ordered[i + 1] as string), v(ordered[i] as string))).toBeGreaterThan(0);
    }
    expect(compareSemver(v('v1.0.0'), v('1.0.0'))).toBe(0);
    expect(compareSemver(v('99999999999999999999.0.0'), v('99999999999999999998.0.0'))).toBeGreaterThan(0);
  });

  it('finds the highest tag: numbers by value, v prefix ignored, non-semver tags ignored', () => {
    expect(highestSemverTag(['v1.9.0', 'v1.10.0', 'latest', '2.0.0-rc.1'])).toBe('2.0.0-rc.1');
    expect(highestSemverTag(['v1.9.0', 'v1.10.0', '1.10.0-rc.3', 'main'])).toBe('v1.10.0');
    expect(highestSemverTag(['latest', 'main'])).toBeNull();
  });
});
