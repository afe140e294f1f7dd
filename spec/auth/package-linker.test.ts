import request from 'supertest';
import { DEFAULT_CONFIG } from '../../src/config';
import { hashPassword } from '../../src/auth/secrets';
import type { IdentityStores } from '../../src/auth/stores/identity-stores';
import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, imageManifest, serialize, type TestBlob } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { openRegistryIdentityStores, type OpenedIdentityStores } from './support/identity-stores';

/**
 * Automatic linking: a pushed image whose org.opencontainers.image.source
 * names a repository on this registry that the pusher can write becomes
 * that repository's package and inherits its visibility and access.
 */
describe('package linking on push', () => {
  const PUBLIC_URL = 'https://registry.example';
  let t: TestRegistry;
  let identities: IdentityStores;
  let opened: OpenedIdentityStores;
  let repoId: number;

  beforeAll(async () => {
    t = await startTestRegistry({
      publicUrl: PUBLIC_URL,
      auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: 'admin-password' },
    });
    // A second handle on the same database, as the CLI would use.
    opened = await openRegistryIdentityStores(t.config);
    identities = opened.identities;
    const alice = await identities.accounts.createAccount('alice', 'user', await hashPassword('alice-password'), false);
    const bob = await identities.accounts.createAccount('bob', 'user', await hashPassword('bob-password'), false);
    await identities.accounts.createAccount('carol', 'user', await hashPassword('carol-password'), false);
    const repo = await identities.repositories.createRepository(alice.id, 'app', 'private');
    repoId = repo.id;
    await identities.repositories.setCollaborator(repo.id, bob.id, 'read');
  });
  afterAll(async () => {
    await opened.close();
    await t.close();
  });

  const as = (user: string) => ({ user, pass: `${user}-password` });

  async function pushBlob(name: string, b: TestBlob, who: { user: string; pass: string }) {
    const res = await request(t.registry.app)
      .post(`/v2/${name}/blobs/uploads/?digest=${b.digest}`)
      .auth(who.user, who.pass)
      .set('Content-Type', 'application/octet-stream')
      .send(b.content);
    expect(res.status).toBe(201);
  }

  async function pushImage(
    name: string,
    who: { user: string; pass: string },
    labels: Record<string, string>,
    annotations?: Record<string, string>,
  ) {
    const config = blob(
      JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const layer = blob(`layer of ${name} ${Math.random()}`);
    await pushBlob(name, config, who);
    await pushBlob(name, layer, who);
    const m = serialize(
      imageManifest({
        config: descriptor(config, MediaType.OCI_CONFIG),
        layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
        annotations,
      }),
    );
    const res = await request(t.registry.app)
      .put(`/v2/${name}/manifests/v1`)
      .auth(who.user, who.pass)
      .set('Content-Type', MediaType.OCI_MANIFEST)
      .send(m.content.toString('utf8'));
    expect(res.status).toBe(201);
  }

  it('links by the image config label when the pusher can write the repository', async () => {
    await pushImage('alice/app', as('alice'), { 'org.opencontainers.image.source': `${PUBLIC_URL}/alice/app` });
    expect((await identities.packages.package('alice/app'))?.sourceRepositoryId).toBe(repoId);
  });

  it('the linked package inherits the repository roles: a read collaborator pulls, cannot push', async () => {
    const pull = await request(t.registry.app).get('/v2/alice/app/manifests/v1').auth('bob', 'bob-password');
    expect(pull.status).toBe(200);
    const push = await request(t.registry.app).post('/v2/alice/app/blobs/uploads/').auth('bob', 'bob-password');
    expect(push.status).toBe(403);
    expect(push.body.errors[0].code).toBe('DENIED');
    const stranger = await request(t.registry.app).get('/v2/alice/app/manifests/v1').auth('carol', 'carol-password');
    expect(stranger.status).toBe(403);
  });

  it('links by the manifest annotation too (.git suffix and trailing slash allowed)', async () => {
    await pushImage('alice/tool', as('alice'), {}, { 'org.opencontainers.image.source': `${PUBLIC_URL}/alice/app.git/` });
    expect((await identities.packages.package('alice/tool'))?.sourceRepositoryId).toBe(repoId);
  });

  it('does not link to a repository on another registry, or one the pusher cannot write', async () => {
    await pushImage('alice/elsewhere', as('alice'), { 'org.opencontainers.image.source': 'https://github.com/alice/app' });
    expect((await identities.packages.package('alice/elsewhere'))?.sourceRepositoryId).toBeNull();
    await pushImage('carol/sneaky', as('carol'), { 'org.opencontainers.image.source': `${PUBLIC_URL}/alice/app` });
    expect((await identities.packages.package('carol/sneaky'))?.sourceRepositoryId).toBeNull();
  });

  it('making the repository public makes its packages pullable anonymously', async () => {
    expect((await request(t.registry.app).get('/v2/alice/app/manifests/v1')).status).toBe(401);
    await identities.repositories.setRepositoryVisibility(repoId, 'public');
    expect((await request(t.registry.app).get('/v2/alice/app/manifests/v1')).status).toBe(200);
    expect((await request(t.registry.app).post('/v2/alice/app/blobs/uploads/')).status).toBe(401);
  });
});
