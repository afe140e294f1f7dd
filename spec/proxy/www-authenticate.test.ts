import { loadConfig } from '../../src/config';
import { parseChallenge } from '../../src/proxy/www-authenticate';
import { ProxyRoutes } from '../../src/proxy/proxy-routes';

describe('WWW-Authenticate challenges', () => {
  it('reads Docker Hub’s Bearer challenge, commas inside quotes included', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull,push' },
    });
  });

  it('reads Basic, unquoted values, escapes and spaces', () => {
    expect(parseChallenge('Basic realm="Registry \\"x\\""')).toEqual({ scheme: 'basic', params: { realm: 'Registry "x"' } });
    expect(parseChallenge('bearer realm=http://h/token , service=s')).toEqual({
      scheme: 'bearer',
      params: { realm: 'http://h/token', service: 's' },
    });
    expect(parseChallenge(null)).toBeNull();
    expect(parseChallenge('')).toBeNull();
  });
});

describe('proxy configuration', () => {
  it('takes proxies from BERTH_PROXIES with their defaults', () => {
    const config = loadConfig({ BERTH_PROXIES: '[{"prefix":"hub","url":"https://registry-1.docker.io"}]' });
    expect(config.proxies).toEqual([{ prefix: 'hub', url: 'https://registry-1.docker.io', tagTtlSeconds: 300, access: 'signed-in' }]);
  });

  it.each([
    ['not JSON', 'hub'],
    ['a prefix with a slash', '[{"prefix":"a/b","url":"https://h"}]'],
    ['a URL with a path', '[{"prefix":"a","url":"https://h/v2"}]'],
    ['a URL with credentials', '[{"prefix":"a","url":"https://u:p@h"}]'],
    ['a prefix twice', '[{"prefix":"a","url":"https://h"},{"prefix":"a","url":"https://i"}]'],
    ['an unknown access', '[{"prefix":"a","url":"https://h","access":"everyone"}]'],
  ])('refuses %s, naming the setting', (_what, value) => {
    expect(() => loadConfig({ BERTH_PROXIES: value })).toThrow(/proxies/);
  });

  it('routes by the first path component, never the bare prefix', () => {
    const routes = new ProxyRoutes([{ prefix: 'hub', url: 'https://h', tagTtlSeconds: 1, access: 'anonymous' }]);
    expect(routes.match('hub/library/alpine')?.remoteName).toBe('library/alpine');
    expect(routes.match('hub')).toBeNull();
    expect(routes.match('hubx/library/alpine')).toBeNull();
    expect(routes.match('other/hub/x')).toBeNull();
  });
});
