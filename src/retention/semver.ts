/**
 * Semantic versions as tags (semver.org 2.0.0, with the `v` prefix registries see everywhere): `1.2.3`,
 * `v1.2.3-rc.1`. Build metadata (`+…`) cannot occur: `+` is not in the OCI tag grammar.
 */
export interface SemanticVersion {
  major: bigint;
  minor: bigint;
  patch: bigint;
  /** Pre-release identifiers (`rc.1` → ['rc', '1']); empty for a release. */
  prerelease: string[];
}

const NUMBER = '(0|[1-9]\\d*)';
const IDENTIFIER = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const SEMVER = new RegExp(`^v?${NUMBER}\\.${NUMBER}\\.${NUMBER}(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?$`);

/** The tag as a semantic version, or null when it is not one (`latest`, `1.2`, `01.2.3`). */
export function parseSemver(tag: string): SemanticVersion | null {
  const m = SEMVER.exec(tag);
  if (!m) return null;
  return { major: BigInt(m[1] ?? 0), minor: BigInt(m[2] ?? 0), patch: BigInt(m[3] ?? 0), prerelease: m[4] ? m[4].split('.') : [] };
}

/** Negative, zero or positive as `a` is lower than, equal to or higher than `b` (semver precedence). */
export function compareSemver(a: SemanticVersion, b: SemanticVersion): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  // A release is higher than any of its pre-releases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const order = compareIdentifiers(a.prerelease[i] as string, b.prerelease[i] as string);
    if (order !== 0) return order;
  }
  return a.prerelease.length - b.prerelease.length;
}

/** Numeric identifiers by value and below alphanumeric ones; alphanumeric ones in ASCII order. */
function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return BigInt(a) === BigInt(b) ? 0 : BigInt(a) < BigInt(b) ? -1 : 1;
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The highest semantic-version tag among `tags` (null when none is one); of equal versions (`1.0.0`, `v1.0.0`), the first. */
export function highestSemverTag(tags: Iterable<string>): string | null {
  let best: { tag: string; version: SemanticVersion } | null = null;
  for (const tag of tags) {
    const version = parseSemver(tag);
    if (version && (best === null || compareSemver(version, best.version) > 0)) best = { tag, version };
  }
  return best?.tag ?? null;
}
