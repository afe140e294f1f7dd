/** Where the pages live; the package page is where the search API's html_url points (src/http/api/search-routes.ts). */
export type OwnerKind = 'user' | 'org';

const kindPath = (kind: OwnerKind) => (kind === 'org' ? 'orgs' : 'users');

export function ownerUrl(kind: OwnerKind, owner: string): string {
  return `/${kindPath(kind)}/${encodeURIComponent(owner)}/packages`;
}

/** `fullName` is the OCI name, `owner/rest`; rest may hold slashes, each segment encoded on its own. */
export function packageUrl(kind: OwnerKind, fullName: string): string {
  const [owner, ...rest] = fullName.split('/');
  return `/${kindPath(kind)}/${encodeURIComponent(owner ?? '')}/packages/container/package/${rest.map(encodeURIComponent).join('/')}`;
}

/** A version's page, as GitHub addresses it: the name under its owner as one (percent-encoded) segment, then the id. */
export function versionUrl(kind: OwnerKind, fullName: string, id: number): string {
  const [owner, ...rest] = fullName.split('/');
  return `/${kindPath(kind)}/${encodeURIComponent(owner ?? '')}/packages/container/${encodeURIComponent(rest.join('/'))}/${id}`;
}

export function settingsUrl(kind: OwnerKind, fullName: string): string {
  return `/-/settings?package=${encodeURIComponent(fullName)}&kind=${kind}`;
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Bytes for people: 1.4 MB. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A count with its noun agreeing: `1 download`, `2 downloads`, `1,204 versions`. */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}
