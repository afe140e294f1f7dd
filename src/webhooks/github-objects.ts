import type { Account } from '../auth/stores/account-store';
import type { SourceRepository } from '../auth/stores/source-repository-store';

/**
 * GitHub's user, organisation and repository objects as webhook payloads carry them, with
 * every field GitHub's schema (@octokit/webhooks-schemas) requires. URLs point at Berth's
 * /api/v3 where it serves the resource, and follow GitHub's layout where it does not.
 */
export function userObject(api: string, web: string, account: Account) {
  const url = `${api}/users/${account.name}`;
  return {
    login: account.name,
    id: account.id,
    node_id: nodeId(account.kind === 'org' ? 'O' : 'U', account.id),
    avatar_url: `${web}/${account.name}.png`,
    gravatar_id: '',
    url,
    html_url: `${web}/${account.name}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: account.kind === 'org' ? 'Organization' : 'User',
    site_admin: account.isAdmin,
  };
}

export function organizationObject(api: string, web: string, org: Account) {
  const url = `${api}/orgs/${org.name}`;
  return {
    login: org.name,
    id: org.id,
    node_id: nodeId('O', org.id),
    url,
    repos_url: `${url}/repos`,
    events_url: `${url}/events`,
    hooks_url: `${url}/hooks`,
    issues_url: `${url}/issues`,
    members_url: `${url}/members{/member}`,
    public_members_url: `${url}/public_members{/member}`,
    avatar_url: `${web}/${org.name}.png`,
    description: null,
  };
}

const REPOSITORY_TEMPLATES: Record<string, string> = {
  keys_url: '/keys{/key_id}',
  collaborators_url: '/collaborators{/collaborator}',
  teams_url: '/teams',
  hooks_url: '/hooks',
  issue_events_url: '/issues/events{/number}',
  events_url: '/events',
  assignees_url: '/assignees{/user}',
  branches_url: '/branches{/branch}',
  tags_url: '/tags',
  blobs_url: '/git/blobs{/sha}',
  git_tags_url: '/git/tags{/sha}',
  git_refs_url: '/git/refs{/sha}',
  trees_url: '/git/trees{/sha}',
  statuses_url: '/statuses/{sha}',
  languages_url: '/languages',
  stargazers_url: '/stargazers',
  contributors_url: '/contributors',
  subscribers_url: '/subscribers',
  subscription_url: '/subscription',
  commits_url: '/commits{/sha}',
  git_commits_url: '/git/commits{/sha}',
  comments_url: '/comments{/number}',
  issue_comment_url: '/issues/comments{/number}',
  contents_url: '/contents/{+path}',
  compare_url: '/compare/{base}...{head}',
  merges_url: '/merges',
  archive_url: '/{archive_format}{/ref}',
  downloads_url: '/downloads',
  issues_url: '/issues{/number}',
  pulls_url: '/pulls{/number}',
  milestones_url: '/milestones{/number}',
  notifications_url: '/notifications{?since,all,participating}',
  labels_url: '/labels{/name}',
  releases_url: '/releases{/id}',
  deployments_url: '/deployments',
};

/** A source repository as GitHub's repository object; Berth hosts no code, so the counts are 0. */
export function repositoryObject(api: string, web: string, repository: SourceRepository, owner: Account) {
  const fullName = `${repository.ownerName}/${repository.name}`;
  const url = `${api}/repos/${fullName}`;
  const templates = Object.fromEntries(Object.entries(REPOSITORY_TEMPLATES).map(([key, path]) => [key, `${url}${path}`]));
  const host = new URL(web).host;
  return {
    id: repository.id,
    node_id: nodeId('R', repository.id),
    name: repository.name,
    full_name: fullName,
    private: repository.visibility === 'private',
    owner: userObject(api, web, owner),
    html_url: `${web}/${fullName}`,
    description: null,
    fork: false,
    url,
    forks_url: `${url}/forks`,
    ...templates,
    created_at: new Date(repository.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    updated_at: new Date(repository.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    pushed_at: null,
    git_url: `git://${host}/${fullName}.git`,
    ssh_url: `git@${host}:${fullName}.git`,
    clone_url: `${web}/${fullName}.git`,
    svn_url: `${web}/${fullName}`,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: false,
    has_projects: false,
    has_downloads: false,
    has_wiki: false,
    has_pages: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    open_issues_count: 0,
    license: null,
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: 'main',
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: repository.visibility,
    custom_properties: {},
  };
}

/** GitHub's GraphQL ids are opaque strings; Berth's name the kind and the integer id. */
function nodeId(kind: string, id: number): string {
  return Buffer.from(`${kind}_${id}`).toString('base64url');
}
