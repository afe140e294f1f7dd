// An organisation owner's hook management with GitHub's own client (@octokit/rest, ESM-only, hence a
// child process), run by spec/webhooks/hooks-api.test.ts against a Berth it started. Signs in with
// Basic credentials (a full sign-in), or in phase `token` with a personal access token (the last argument) as
// `auth`, unchanged from a script written for GitHub. Prints one JSON object with
// what it saw. Phase `setup` creates hooks and pings; phase `deliveries` reads the delivery log and redelivers;
// phase `token` manages an organisation hook with the token, and tries a repository's.
import { Octokit } from '@octokit/rest';

const [baseUrl, user, password, phase, receiverUrl, secret, token] = process.argv.slice(2);
const octokit = new Octokit({ baseUrl, ...(phase === 'token' ? { auth: token, request: { retries: 0 } } : {}) });
if (phase !== 'token') {
  octokit.hook.before('request', (options) => {
    options.headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  });
}
const out = {};
const statusOf = async (call) => {
  try {
    return (await call()).status;
  } catch (err) {
    return err.status;
  }
};

if (phase === 'token') {
  out.createStatus = await statusOf(async () => {
    const created = await octokit.rest.orgs.createWebhook({
      org: 'acme',
      name: 'web',
      config: { url: receiverUrl, secret },
      events: ['package'],
    });
    out.hookId = created.data.id;
    return created;
  });
  const listed = await statusOf(async () => {
    const r = await octokit.rest.orgs.listWebhooks({ org: 'acme' });
    out.scopes = r.headers['x-oauth-scopes'];
    out.listedIds = r.data.map((h) => h.id);
    return r;
  });
  out.listStatus = listed;
  out.repoCreateStatus = await statusOf(() =>
    octokit.rest.repos.createWebhook({ owner: 'acme', repo: 'app', config: { url: receiverUrl }, events: ['package'] }),
  );
  if (out.hookId) out.deleteStatus = await statusOf(() => octokit.rest.orgs.deleteWebhook({ org: 'acme', hook_id: out.hookId }));
} else if (phase === 'setup') {
  const created = await octokit.rest.orgs.createWebhook({
    org: 'acme',
    name: 'web',
    config: { url: receiverUrl, content_type: 'json', secret },
    events: ['package'],
  });
  out.createStatus = created.status;
  out.hookId = created.data.id;
  out.createdConfig = created.data.config;
  out.pingUrl = created.data.ping_url;
  out.listed = (await octokit.rest.orgs.listWebhooks({ org: 'acme' })).data.map((h) => h.id);
  out.got = (await octokit.rest.orgs.getWebhook({ org: 'acme', hook_id: out.hookId })).data.events;
  const updated = await octokit.rest.orgs.updateWebhook({ org: 'acme', hook_id: out.hookId, events: ['package', 'ping'], active: true });
  out.updatedEvents = updated.data.events;
  out.pingStatus = (await octokit.rest.orgs.pingWebhook({ org: 'acme', hook_id: out.hookId })).status;
  out.internalUrlStatus = await statusOf(() =>
    octokit.rest.orgs.createWebhook({ org: 'acme', name: 'web', config: { url: 'http://169.254.169.254/latest/' }, events: ['package'] }),
  );

  const repoHook = await octokit.rest.repos.createWebhook({
    owner: 'acme',
    repo: 'app',
    config: { url: receiverUrl, content_type: 'form', secret },
    events: ['package'],
  });
  out.repoHookType = repoHook.data.type;
  const repoUpdated = await octokit.rest.repos.updateWebhook({
    owner: 'acme',
    repo: 'app',
    hook_id: repoHook.data.id,
    add_events: ['ping'],
  });
  out.repoEvents = repoUpdated.data.events;
  out.repoListed = (await octokit.rest.repos.listWebhooks({ owner: 'acme', repo: 'app' })).data.length;
  out.repoDeleteStatus = (await octokit.rest.repos.deleteWebhook({ owner: 'acme', repo: 'app', hook_id: repoHook.data.id })).status;
  out.repoAfterDelete = await statusOf(() => octokit.rest.repos.getWebhook({ owner: 'acme', repo: 'app', hook_id: repoHook.data.id }));
  out.wrongOwner = await statusOf(() => octokit.rest.repos.getWebhook({ owner: 'acme', repo: 'app', hook_id: out.hookId }));
} else {
  const hookId = Number(receiverUrl);
  const deliveries = (await octokit.rest.orgs.listWebhookDeliveries({ org: 'acme', hook_id: hookId })).data;
  out.deliveries = deliveries.map((d) => ({ event: d.event, status_code: d.status_code, redelivery: d.redelivery }));
  const first = deliveries[deliveries.length - 1];
  const one = (await octokit.rest.orgs.getWebhookDelivery({ org: 'acme', hook_id: hookId, delivery_id: first.id })).data;
  out.oneGuid = one.guid;
  out.oneRequestEvent = one.request.headers['X-GitHub-Event'];
  out.oneRequestPayloadHookId = one.request.payload.hook_id;
  out.oneResponse = one.response.payload;
  out.redeliverStatus = (await octokit.rest.orgs.redeliverWebhookDelivery({ org: 'acme', hook_id: hookId, delivery_id: first.id })).status;
  out.deleteStatus = (await octokit.rest.orgs.deleteWebhook({ org: 'acme', hook_id: hookId })).status;
  out.afterDelete = await statusOf(() => octokit.rest.orgs.getWebhook({ org: 'acme', hook_id: hookId }));
}
process.stdout.write(JSON.stringify(out));
