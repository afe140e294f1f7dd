import { locations, matchRoute, ROUTE_ACTIONS } from '../../src/http/routes';

const D = `sha256:${'a'.repeat(64)}`;

describe('matchRoute', () => {
  it.each([
    ['', { route: 'base' }],
    ['_catalog', { route: 'catalog' }],
    ['a/tags/list', { route: 'tags', name: 'a' }],
    ['a/b/tags/list', { route: 'tags', name: 'a/b' }],
    ['a/manifests/latest', { route: 'manifest', name: 'a', reference: 'latest' }],
    [`a/b/manifests/${D}`, { route: 'manifest', name: 'a/b', reference: D }],
    ['a/blobs/uploads/', { route: 'uploads', name: 'a' }],
    ['a/blobs/uploads', { route: 'uploads', name: 'a' }],
    ['a/blobs/uploads/abc-123', { route: 'upload', name: 'a', uploadId: 'abc-123' }],
    [`a/blobs/${D}`, { route: 'blob', name: 'a', digest: D }],
    [`a/referrers/${D}`, { route: 'referrers', name: 'a', digest: D }],
  ])('matches %p', (path, expected) => {
    expect(matchRoute(path)).toEqual(expected);
  });

  describe('names containing route words', () => {
    it.each([
      ['blobs/manifests/latest', { route: 'manifest', name: 'blobs', reference: 'latest' }],
      ['x/blobs/y/manifests/v1', { route: 'manifest', name: 'x/blobs/y', reference: 'v1' }],
      ['x/blobs/uploads/manifests/v1', { route: 'manifest', name: 'x/blobs/uploads', reference: 'v1' }],
      ['x/manifests/y/manifests/v1', { route: 'manifest', name: 'x/manifests/y', reference: 'v1' }],
      ['x/manifests/y/tags/list', { route: 'tags', name: 'x/manifests/y' }],
      ['x/tags/list/y/tags/list', { route: 'tags', name: 'x/tags/list/y' }],
      [`x/manifests/y/blobs/${D}`, { route: 'blob', name: 'x/manifests/y', digest: D }],
      [`x/blobs/uploads/blobs/${D}`, { route: 'blob', name: 'x/blobs/uploads', digest: D }],
      [`uploads/blobs/${D}`, { route: 'blob', name: 'uploads', digest: D }],
      ['x/blobs/blobs/uploads/', { route: 'uploads', name: 'x/blobs' }],
      ['x/uploads/blobs/uploads/', { route: 'uploads', name: 'x/uploads' }],
      ['x/manifests/blobs/uploads/', { route: 'uploads', name: 'x/manifests' }],
      ['x/blobs/uploads/blobs/uploads/', { route: 'uploads', name: 'x/blobs/uploads' }],
      ['x/blobs/uploads/blobs/uploads', { route: 'uploads', name: 'x/blobs/uploads' }],
      ['x/blobs/blobs/uploads/u1', { route: 'upload', name: 'x/blobs', uploadId: 'u1' }],
      ['x/blobs/uploads/blobs/uploads/u1', { route: 'upload', name: 'x/blobs/uploads', uploadId: 'u1' }],
      [`x/referrers/y/referrers/${D}`, { route: 'referrers', name: 'x/referrers/y', digest: D }],
    ])('matches %p', (path, expected) => {
      expect(matchRoute(path)).toEqual(expected);
    });
  });

  it.each(['a', 'a/b', 'a/manifests', 'a/manifests/', 'a/blobs/', 'a/tags', 'a/tags/list/', '_catalog/x', 'a/referrers/'])(
    'matches nothing for %p',
    (path) => {
      expect(matchRoute(path)).toBeNull();
    },
  );
});

describe('ROUTE_ACTIONS', () => {
  it('needs push for every upload method and delete for deletions', () => {
    expect(Object.values(ROUTE_ACTIONS.upload)).toEqual(['push', 'push', 'push', 'push']);
    expect(ROUTE_ACTIONS.uploads).toEqual({ POST: 'push' });
    expect(ROUTE_ACTIONS.manifest.DELETE).toBe('delete');
    expect(ROUTE_ACTIONS.blob.DELETE).toBe('delete');
    expect(ROUTE_ACTIONS.base.GET).toBe('none');
  });
});

describe('locations', () => {
  it('builds paths that match back to their routes', () => {
    expect(locations.blob('a/b', D)).toBe(`/v2/a/b/blobs/${D}`);
    expect(matchRoute(locations.blob('x/blobs', D).slice(4))).toEqual({ route: 'blob', name: 'x/blobs', digest: D });
    expect(matchRoute(locations.upload('x/blobs/uploads', 'u1').slice(4))).toEqual({
      route: 'upload',
      name: 'x/blobs/uploads',
      uploadId: 'u1',
    });
    expect(matchRoute(locations.manifest('x/manifests', 'v1').slice(4))).toEqual({
      route: 'manifest',
      name: 'x/manifests',
      reference: 'v1',
    });
    expect(locations.tags('a')).toBe('/v2/a/tags/list');
    expect(locations.catalog()).toBe('/v2/_catalog');
  });
});
