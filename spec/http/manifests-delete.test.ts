import { imageIndex, unknownDigest } from '../support/oci';
import { expectOciError, pushImage, pushManifest } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

let t: TestRegistry;

beforeAll(async () => {
  t = await startTestRegistry();
});

afterAll(async () => {
  await t.close();
});

async function tags(name: string): Promise<string[]> {
  const res = await t.http.get(`/v2/${name}/tags/list`);
  expect(res.status).toBe(200);
  return res.body.tags as string[];
}

describe('DELETE a manifest', () => {
  it('by digest: 202, the manifest is gone and so are all its tags', async () => {
    const m = await pushImage(t.http, 'del/digest', 'a');
    await pushManifest(t.http, 'del/digest', 'b', JSON.parse(m.content.toString()) as Record<string, unknown>);
    const keep = await pushImage(t.http, 'del/digest', 'keep');
    expect(await tags('del/digest')).toEqual(['a', 'b', 'keep']);

    expect((await t.http.delete(`/v2/del/digest/manifests/${m.digest}`)).status).toBe(202);
    expectOciError(await t.http.get(`/v2/del/digest/manifests/${m.digest}`), 404, 'MANIFEST_UNKNOWN');
    expectOciError(await t.http.get('/v2/del/digest/manifests/a'), 404, 'MANIFEST_UNKNOWN');
    expect(await tags('del/digest')).toEqual(['keep']);
    expect((await t.http.head(`/v2/del/digest/manifests/${keep.digest}`)).status).toBe(200);
  });

  it('by tag: 202, the tag is gone but the manifest stays', async () => {
    const m = await pushImage(t.http, 'del/tag', 'v1');
    expect((await t.http.delete('/v2/del/tag/manifests/v1')).status).toBe(202);
    expectOciError(await t.http.get('/v2/del/tag/manifests/v1'), 404, 'MANIFEST_UNKNOWN');
    expect((await t.http.head(`/v2/del/tag/manifests/${m.digest}`)).status).toBe(200);
    expect(await tags('del/tag')).toEqual([]);
  });

  it('answers an unknown digest or tag with 404 MANIFEST_UNKNOWN', async () => {
    await pushImage(t.http, 'del/unknown', 'v1');
    expectOciError(await t.http.delete(`/v2/del/unknown/manifests/${unknownDigest()}`), 404, 'MANIFEST_UNKNOWN');
    expectOciError(await t.http.delete('/v2/del/unknown/manifests/v2'), 404, 'MANIFEST_UNKNOWN');
    expectOciError(await t.http.delete('/v2/del/never/manifests/v1'), 404, 'MANIFEST_UNKNOWN');
  });

  it('refuses with 409 to delete a manifest an index references, until the index is deleted', async () => {
    const child = await pushImage(t.http, 'del/index', null);
    const index = await pushManifest(
      t.http,
      'del/index',
      'multi',
      imageIndex([child.descriptor({ platform: { architecture: 'amd64', os: 'linux' } })]),
    );
    const res = await t.http.delete(`/v2/del/index/manifests/${child.digest}`);
    expectOciError(res, 409, 'CONFLICT');
    expect((await t.http.head(`/v2/del/index/manifests/${child.digest}`)).status).toBe(200);

    expect((await t.http.delete(`/v2/del/index/manifests/${index.digest}`)).status).toBe(202);
    expect((await t.http.delete(`/v2/del/index/manifests/${child.digest}`)).status).toBe(202);
  });

  it('deletes in one repository only', async () => {
    const a = await pushImage(t.http, 'del/one', 'v1', { seed: 'same' });
    const b = await pushImage(t.http, 'del/two', 'v1', { seed: 'same' });
    expect(b.digest).toBe(a.digest);
    expect((await t.http.delete(`/v2/del/one/manifests/${a.digest}`)).status).toBe(202);
    const res = await t.http.get('/v2/del/two/manifests/v1');
    expect(res.status).toBe(200);
    expect(res.headers['docker-content-digest']).toBe(a.digest);
  });

  it('lets a deleted manifest be pushed again', async () => {
    const m = await pushImage(t.http, 'del/again', 'v1');
    expect((await t.http.delete(`/v2/del/again/manifests/${m.digest}`)).status).toBe(202);
    await pushManifest(t.http, 'del/again', 'v1', JSON.parse(m.content.toString()) as Record<string, unknown>);
    expect((await t.http.head('/v2/del/again/manifests/v1')).headers['docker-content-digest']).toBe(m.digest);
  });
});
