import { AddressGuard, UrlRefused, parseAllowedHosts } from '../../src/outbound/address-guard';

/** The SSRF guard on hook URLs: internal addresses refused unless allowed, the checked address pinned. */
const resolveTo =
  (table: Record<string, string[]>) =>
  async (host: string): Promise<Array<{ address: string; family: number }>> => {
    const addresses = table[host];
    if (!addresses) throw new Error('ENOTFOUND');
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const DNS = resolveTo({
  'public.example': ['93.184.216.34'],
  'sneaky.example': ['93.184.216.34', '10.0.0.5'],
  'metadata.example': ['169.254.169.254'],
  'v6.example': ['2606:2800:220:1::1'],
  'ula.example': ['fd00:ec2::254'],
  'mapped.example': ['::ffff:127.0.0.1'],
  'hooks.internal': ['10.9.9.9'],
});

it.each([
  'http://127.0.0.1:8080/',
  'http://[::1]/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://192.168.1.1/',
  'http://100.100.100.200/',
  'http://169.254.169.254/latest/meta-data/',
  'http://0.0.0.0/',
  'http://[fe80::1]/',
  'http://[::ffff:10.0.0.1]/',
  'http://sneaky.example/',
  'http://metadata.example/',
  'http://ula.example/',
  'http://mapped.example/',
  'ftp://public.example/',
  'http://user:pw@public.example/',
  'not a url',
])('refuses %p', async (url) => {
  await expect(new AddressGuard('', DNS).check(url)).rejects.toBeInstanceOf(UrlRefused);
});

it.each(['https://public.example/hook', 'http://v6.example:8080/', 'http://93.184.216.34/'])('accepts %p', async (url) => {
  const target = await new AddressGuard('', DNS).check(url);
  expect(target.addresses.length).toBeGreaterThan(0);
});

it('lets BERTH_WEBHOOK_ALLOWED_HOSTS allow host names, addresses and CIDRs', async () => {
  const guard = new AddressGuard('127.0.0.1, hooks.internal, 192.168.0.0/16', DNS);
  await expect(guard.check('http://127.0.0.1:9/')).resolves.toBeDefined();
  await expect(guard.check('http://hooks.internal/')).resolves.toBeDefined();
  await expect(guard.check('http://192.168.7.7/')).resolves.toBeDefined();
  await expect(guard.check('http://127.0.0.2/')).rejects.toBeInstanceOf(UrlRefused);
  await expect(guard.check('http://10.0.0.1/')).rejects.toBeInstanceOf(UrlRefused);
});

it('rejects malformed allowed-host entries', () => {
  expect(() => parseAllowedHosts('10.0.0.0/33')).toThrow('not a valid CIDR');
  expect(() => parseAllowedHosts('a b')).toThrow('neither');
  expect(parseAllowedHosts(' ,::1, Example.COM ')).toEqual([
    { kind: 'subnet', address: '::1', prefix: 128, family: 'ipv6' },
    { kind: 'name', name: 'example.com' },
  ]);
});

it('pins the request to the checked address, whatever DNS answers later', async () => {
  const target = await new AddressGuard('', DNS).check('http://public.example/');
  const one = await new Promise<string>((resolve) => target.lookup('public.example', {}, (_e, address) => resolve(address as string)));
  expect(one).toBe('93.184.216.34');
  const all = await new Promise<unknown>((resolve) =>
    target.lookup('public.example', { all: true }, (_e, addresses) => resolve(addresses)),
  );
  expect(all).toEqual([{ address: '93.184.216.34', family: 4 }]);
  // The system resolver is what the guard uses by default: localhost resolves to loopback, refused.
  await expect(new AddressGuard('').check('http://localhost/')).rejects.toBeInstanceOf(UrlRefused);
});
