import { safeHttpUrl } from './html';

/** Forges whose commit pages Berth knows how to address, and the path that leads to a commit. */
const FORGE_COMMIT_PATHS: Readonly<Record<string, string>> = {
  'github.com': '/commit/',
  'gitlab.com': '/-/commit/',
  'codeberg.org': '/commit/',
  'bitbucket.org': '/commits/',
};

/**
 * The source repository (`org.opencontainers.image.source`) as a link when it
 * is an http(s) URL, and the revision as a link to its commit when the source
 * is on a known forge and the revision looks like a commit hash.
 */
export function sourceLinks(source: string | undefined, revision: string | undefined): { source: string | null; commit: string | null } {
  const url = safeHttpUrl(source);
  if (!url || !revision || !/^[0-9a-f]{7,64}$/i.test(revision)) return { source: url, commit: null };
  const parsed = new URL(url);
  const path = FORGE_COMMIT_PATHS[parsed.hostname.toLowerCase()];
  if (!path || parsed.protocol !== 'https:') return { source: url, commit: null };
  const repo = parsed.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
  if (!/^\/[\w.-]+\/[\w.-]+(\/[\w.-]+)*$/.test(repo)) return { source: url, commit: null };
  return { source: url, commit: `https://${parsed.host}${repo}${path}${revision}` };
}
