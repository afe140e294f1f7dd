import { AuditService } from '../../src/audit/audit-service';
import { SqlAuditStore } from '../../src/audit/sql/sql-audit-store';
import { expectApiError } from '../support/http';
import { addUser, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { manifestFor, packageContent, postBlob, putManifest } from '../auth/support/registry-ops';

/**
 * The audit log through the real HTTP API: what the management API and the
 * registry API change is recorded with who, from where and which request;
 * an organisation's log is for its owners, a user's log for themselves.
 */
let t: AuthTestRegistry;
const auth = (name: string) => basic(name, `${name}-password`);
const api = (name: string | null) => ({
  get: (path: string) => (name === null ? t.http.get(path) : t.http.get(path).set('Authorization', auth(name))),
  send: (method: 'post' | 'put' | 'patch' | 'delete', path: string, body: object = {}, requestId?: string) => {
    const req = t.http[method](path).set('Authorization', auth(name!));
    return (requestId ? req.set('X-Request-Id', requestId) : req).send(body);
  },
});
type Entry = {
  id: number;
  action: string;
  actor: { name: string | null };
  requestId: string;
  clientAddress: string | null;
  details: Record<string, unknown>;
  target: Record<string, unknown>;
};
const actions = (entries: Entry[]) => entries.map((e) => e.action);
const orgLog = (query = '', as = 'alice') => api(as).get(`/api/v1/orgs/acme/audit-log${query}`);

const first = manifestFor(packageContent('acme/app'), 'one');
const second = manifestFor(packageContent('acme/app'), 'two');

beforeAll(async () => {
  t = await startAuthRegistry();
  for (const name of ['alice', 'bob', 'carol']) await addUser(t.identities, name);
  const alice = api('alice');
  expect((await alice.send('post', '/api/v1/orgs', { name: 'acme' })).status).toBe(201);
  expect((await alice.send('put', '/api/v1/orgs/acme/members/bob', { role: 'member' }, 'req-member-bob')).status).toBe(200);
  const content = packageContent('acme/app');
  for (const b of [content.config, content.layer]) expect((await postBlob(t.http, auth('alice'), 'acme/app', b)).status).toBe(201);
  expect((await putManifest(t.http, auth('alice'), 'acme/app', 'v1', first.content)).status).toBe(201);
  expect((await putManifest(t.http, auth('alice'), 'acme/app', 'v1', second.content)).status).toBe(201);
  expect((await alice.send('post', '/api/v1/repositories', { owner: 'acme', name: 'src' })).status).toBe(201);
  expect((await alice.send('put', '/api/v1/packages/acme/app/link', { repository: 'acme/src' })).status).toBe(200);
  expect((await alice.send('delete', '/api/v1/packages/acme/app/link')).status).toBe(200);
  expect((await alice.send('patch', '/api/v1/packages/acme/app', { visibility: 'public' })).status).toBe(200);
  expect((await alice.send('put', '/api/v1/repositories/acme/src/collaborators/carol', { role: 'read' })).status).toBe(200);
  const token = await alice.send('post', '/api/v1/tokens', { name: 'ci', scopes: ['read:packages'] });
  expect(token.status).toBe(201);
  expect((await alice.send('delete', `/api/v1/tokens/${token.body.id as number}`)).status).toBe(204);
  expect((await t.http.get('/api/v1/user').set('Authorization', basic('alice', 'wrong-password'))).status).toBe(401);
  expect((await t.http.delete('/v2/acme/app/manifests/v1').set('Authorization', auth('alice'))).status).toBe(202);
});
afterAll(() => t.close());

describe('the audit log', () => {
  it("records an organisation's changes, newest first, with who, from where and which request", async () => {
    const res = await orgLog().expect(200);
    const entries = res.body as Entry[];
    expect(actions(entries)).toEqual([
      'tag.delete',
      'repository.collaborator',
      'package.visibility',
      'package.unlink',
      'package.link',
      'tag.move',
      'manifest.push',
      'manifest.push',
      'org.member',
    ]);
    const member = entries.find((e) => e.action === 'org.member')!;
    expect(member).toMatchObject({
      actor: { kind: 'user', name: 'alice', credential: 'password', tokenId: null },
      requestId: 'req-member-bob',
      target: { owner: 'acme', package: null, repository: null },
      details: { user: 'bob', from: null, to: 'member' },
    });
    expect(member.clientAddress).toEqual(expect.any(String));
    expect(entries.find((e) => e.action === 'tag.move')).toMatchObject({
      target: { owner: 'acme', package: 'acme/app' },
      details: { tag: 'v1', from: first.digest, to: second.digest },
    });
    expect(entries.find((e) => e.action === 'package.link')!.target).toMatchObject({ repository: 'acme/src' });
    expect(entries.every((e) => typeof e.requestId === 'string' && e.requestId.length > 0)).toBe(true);
  });

  it("is read by the organisation's owners and site administrators only", async () => {
    expectApiError(await orgLog('', 'bob'), 403, 'FORBIDDEN');
    expectApiError(await orgLog('', 'carol'), 403, 'FORBIDDEN');
    expectApiError(await t.http.get('/api/v1/orgs/acme/audit-log'), 401, 'UNAUTHORIZED');
    expectApiError(await api('alice').get('/api/v1/orgs/nope/audit-log'), 404, 'ORGANIZATION_NOT_FOUND');
    expectApiError(await api('alice').get('/api/v1/orgs/alice/audit-log'), 404, 'ORGANIZATION_NOT_FOUND');
    const asAdmin = await t.http.get('/api/v1/orgs/acme/audit-log').set('Authorization', basic('admin', 'admin-password-for-specs'));
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body).toHaveLength(9);
  });

  it('filters by action, actor and time', async () => {
    expect(actions((await orgLog('?action=manifest.push').expect(200)).body)).toEqual(['manifest.push', 'manifest.push']);
    expect((await orgLog('?actor=alice').expect(200)).body).toHaveLength(9);
    expect((await orgLog('?actor=bob').expect(200)).body).toEqual([]);
    expect((await orgLog('?after=2999-01-01T00:00:00Z').expect(200)).body).toEqual([]);
    expect((await orgLog('?before=2000-01-01').expect(200)).body).toEqual([]);
    expect((await orgLog('?after=2000-01-01&before=2999-01-01T00:00:00Z&action=tag.move').expect(200)).body).toHaveLength(1);
    for (const bad of [
      '?action=nope',
      '?after=yesterday',
      '?per_page=0',
      '?per_page=101',
      '?cursor=-1',
      '?action=tag.move&action=tag.delete',
    ]) {
      expectApiError(await orgLog(bad), 400, 'REQUEST_INVALID');
    }
  });

  it('pages newest first through Link rel="next" until the last page', async () => {
    const all = ((await orgLog().expect(200)).body as Entry[]).map((e) => e.id);
    const seen: number[] = [];
    let next: string | undefined = '/api/v1/orgs/acme/audit-log?per_page=2';
    let pages = 0;
    while (next) {
      const res: { body: Entry[]; headers: Record<string, string | undefined> } = await api('alice').get(next).expect(200);
      expect(res.body.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.map((e) => e.id));
      const link = res.headers.link;
      const m = link ? /^<https?:\/\/[^/]+([^>]+)>; rel="next"$/.exec(link) : null;
      next = m?.[1];
      pages++;
    }
    expect(pages).toBe(5);
    expect(seen).toEqual(all);
  });

  it('gives each user their own log: what they did and what happened to them', async () => {
    const alice = (await api('alice').get('/api/v1/user/audit-log').expect(200)).body as Entry[];
    expect(actions(alice).slice(0, 4)).toEqual(['tag.delete', 'signin.failed', 'token.revoke', 'token.create']);
    expect(alice.find((e) => e.action === 'signin.failed')).toMatchObject({
      actor: { kind: 'anonymous', name: null },
      target: { owner: 'alice' },
      details: { username: 'alice', credential: 'password' },
    });
    expect(alice.find((e) => e.action === 'token.create')!.details).toMatchObject({ kind: 'pat', name: 'ci', scopes: ['read:packages'] });
    expect(alice).toHaveLength(12);
    expect((await api('bob').get('/api/v1/user/audit-log').expect(200)).body).toEqual([]);
    expectApiError(await t.http.get('/api/v1/user/audit-log'), 401, 'UNAUTHORIZED');
  });

  it('forgets entries older than the retention', async () => {
    const store = new SqlAuditStore(t.db);
    const keep = new AuditService(store, t.identities.accounts, { retentionDays: 90, now: () => Date.now() + 89 * 86_400_000 });
    expect(await keep.prune()).toBe(0);
    const later = new AuditService(store, t.identities.accounts, { retentionDays: 90, now: () => Date.now() + 91 * 86_400_000 });
    expect(await later.prune()).toBe(12);
    expect((await orgLog().expect(200)).body).toEqual([]);
    expect((await api('alice').get('/api/v1/user/audit-log').expect(200)).body).toEqual([]);
  });
});
