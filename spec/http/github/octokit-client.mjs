// A user's cleanup script, as the popular cleanup actions write it, run by spec/http/github-octokit.test.ts
// against a Berth it started: GitHub's own client (@octokit/rest, ESM-only, hence a child process) with
// baseUrl at Berth's /api/v3. Prints one JSON object with what it saw.
import { Octokit } from '@octokit/rest';

const [baseUrl, auth] = process.argv.slice(2);
const octokit = new Octokit({ baseUrl, auth });
const out = {};

out.orgPackages = (await octokit.rest.packages.listPackagesForOrganization({ org: 'acme', package_type: 'container' })).data.map(
  (p) => p.name,
);
out.userPackages = (await octokit.rest.packages.listPackagesForUser({ username: 'alice', package_type: 'container' })).data.map(
  (p) => p.name,
);
out.login = (await octokit.rest.users.getAuthenticated()).data.login;

const versions = { package_type: 'container', package_name: 'tools/many', org: 'acme', per_page: 100 };
let pages = 0;
const all = await octokit.paginate(octokit.rest.packages.getAllPackageVersionsForPackageOwnedByOrg, versions, (response) => {
  pages += 1;
  return response.data;
});
out.pages = pages;
out.versionCount = all.length;
out.distinctIds = new Set(all.map((v) => v.id)).size;
out.tagged = all.filter((v) => v.metadata.container.tags.length > 0).length;
out.untagged = all.filter((v) => v.metadata.container.tags.length === 0).length;

const victim = all.find((v) => v.metadata.container.tags.length === 0);
const target = { package_type: 'container', package_name: 'tools/many', org: 'acme', package_version_id: victim.id };
out.deleteStatus = (await octokit.rest.packages.deletePackageVersionForOrg(target)).status;
const deleted = await octokit.rest.packages.getAllPackageVersionsForPackageOwnedByOrg({ ...versions, state: 'deleted' });
out.deletedIds = deleted.data.map((v) => v.id);
out.victimId = victim.id;
out.restoreStatus = (await octokit.rest.packages.restorePackageVersionForOrg(target)).status;
out.afterRestore = (await octokit.rest.packages.getPackageVersionForOrganization(target)).data.name === victim.name;

const pkg = { package_type: 'container', package_name: 'own', username: 'alice' };
out.packageDeleteStatus = (await octokit.rest.packages.deletePackageForUser(pkg)).status;
try {
  await octokit.rest.packages.getPackageForUser(pkg);
  out.afterPackageDelete = 'found';
} catch (err) {
  out.afterPackageDelete = err.status;
}
out.packageRestoreStatus = (await octokit.rest.packages.restorePackageForUser(pkg)).status;
out.afterPackageRestore = (await octokit.rest.packages.getPackageForUser(pkg)).data.version_count;
process.stdout.write(JSON.stringify(out));
