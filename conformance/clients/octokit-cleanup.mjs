// A cleanup job written against GitHub's own client the way the popular GHCR cleanup actions work (issue #15):
// list every version of a container package, delete each one that has no tags. A refusal does not stop the job;
// it is reported, as those actions log and go on. Run from this checkout, so @octokit/rest resolves here.
//
//   node conformance/clients/octokit-cleanup.mjs cleanup BASE_URL PACKAGE     → {"kept":[…],"deleted":[…],"refused":[…]}
//   node conformance/clients/octokit-cleanup.mjs restore BASE_URL PACKAGE ID  → {"status":204}
//   node conformance/clients/octokit-cleanup.mjs find BASE_URL PACKAGE DIGEST → {"id":N,"state":"active"|"deleted"}
//
// The token is read from GITHUB_TOKEN (a Berth personal access token with delete:packages); the package is one
// of the authenticated user's own (GitHub's /user/packages/container/NAME).
import { Octokit } from '@octokit/rest';

const [mode, baseUrl, packageName, arg] = process.argv.slice(2);
if (!mode || !baseUrl || !packageName || !process.env.GITHUB_TOKEN) {
  console.error('usage: GITHUB_TOKEN=… octokit-cleanup.mjs cleanup|restore|find BASE_URL PACKAGE [ID|DIGEST]');
  process.exit(2);
}
const octokit = new Octokit({ baseUrl, auth: process.env.GITHUB_TOKEN, request: { retries: 0 } });
const pkg = { package_type: 'container', package_name: packageName };

async function versions(state) {
  return octokit.paginate(octokit.rest.packages.getAllPackageVersionsForPackageOwnedByAuthenticatedUser, { ...pkg, state, per_page: 100 });
}

if (mode === 'cleanup') {
  const result = { kept: [], deleted: [], refused: [] };
  for (const version of await versions('active')) {
    if (version.metadata.container.tags.length > 0) {
      result.kept.push({ id: version.id, name: version.name, tags: version.metadata.container.tags });
      continue;
    }
    try {
      await octokit.rest.packages.deletePackageVersionForAuthenticatedUser({ ...pkg, package_version_id: version.id });
      result.deleted.push({ id: version.id, name: version.name });
    } catch (err) {
      result.refused.push({ id: version.id, name: version.name, status: err.status, message: err.response?.data?.message ?? String(err) });
    }
  }
  console.log(JSON.stringify(result));
} else if (mode === 'restore') {
  const res = await octokit.rest.packages.restorePackageVersionForAuthenticatedUser({ ...pkg, package_version_id: Number(arg) });
  console.log(JSON.stringify({ status: res.status }));
} else if (mode === 'find') {
  for (const state of ['active', 'deleted']) {
    const found = (await versions(state)).find((v) => v.name === arg);
    if (found) {
      console.log(JSON.stringify({ id: found.id, state }));
      process.exit(0);
    }
  }
  console.log(JSON.stringify({ id: null, state: null }));
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
