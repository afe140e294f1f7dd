import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { DomainError } from '../domain-error';

/** A URL Berth will not send to (a hook's, a promotion's target): not http(s), unresolvable, or internal. */
export class UrlRefused extends DomainError {}

/** What a guard checks, for its messages: `the hook URL`, and the setting that allows internal hosts. */
export interface GuardedUse {
  subject: string;
  setting: string;
}

const HOOK_URL: GuardedUse = { subject: 'the hook URL', setting: 'BERTH_WEBHOOK_ALLOWED_HOSTS' };

/**
 * Addresses Berth may not reach for a URL a user gave unless allowed (SSRF): this host, private networks, link-local
 * (cloud metadata at 169.254.169.254 and fd00:ec2::254), CGNAT (Alibaba's 100.100.100.200),
 * unique-local, multicast and reserved ranges. IPv4-mapped IPv6 is checked as IPv4.
 */
const BLOCKED: ReadonlyArray<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 127, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

/** Resolves a host name to its addresses (dns.lookup, as http.request would). */
export type Resolve = (host: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** Where a checked URL may be sent: the addresses that were checked, which the request must use. */
export interface CheckedTarget {
  url: URL;
  addresses: LookupAddress[];
  /** For http.request's `lookup`: answers with the checked addresses, so DNS cannot change between check and connect. */
  lookup: LookupFunction;
}

/**
 * The SSRF guard for URLs users give Berth to send to: hook URLs (BERTH_WEBHOOK_ALLOWED_HOSTS lists the exceptions:
 * host names, addresses and CIDRs; checked when a hook is saved and again before every delivery) and promotion
 * targets on other registries (BERTH_PROMOTION_ALLOWED_HOSTS).
 */
export class AddressGuard {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();
  private readonly allowedNames = new Set<string>();

  constructor(
    allowedHosts: string,
    private readonly resolve: Resolve = systemResolve,
    private readonly use: GuardedUse = HOOK_URL,
  ) {
    for (const [address, prefix, family] of BLOCKED) this.blocked.addSubnet(address, prefix, family);
    this.blocked.addAddress('::1', 'ipv6');
    for (const entry of parseAllowedHosts(allowedHosts)) {
      if (entry.kind === 'name') this.allowedNames.add(entry.name);
      else this.allowed.addSubnet(entry.address, entry.prefix, entry.family);
    }
  }

  async check(raw: string): Promise<CheckedTarget> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UrlRefused(`${this.use.subject} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlRefused(`${this.use.subject} must be http:// or https://`);
    if (url.username || url.password) throw new UrlRefused(`${this.use.subject} may not carry credentials`);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    let addresses: LookupAddress[];
    if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await this.resolve(host);
      } catch {
        throw new UrlRefused(`${this.use.subject}'s host ${host} does not resolve`);
      }
    }
    if (addresses.length === 0) throw new UrlRefused(`${this.use.subject}'s host ${host} does not resolve`);
    if (!this.allowedNames.has(host)) {
      for (const a of addresses) {
        if (this.isInternal(a.address)) {
          throw new UrlRefused(
            `${this.use.subject}'s host ${host} is an internal address (${a.address}); ${this.use.setting} can allow it`,
          );
        }
      }
    }
    return { url, addresses, lookup: pinnedLookup(addresses) };
  }

  private isInternal(address: string): boolean {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    const mapped = family === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
    if (mapped) return this.isInternal(mapped);
    if (this.allowed.check(address, family)) return false;
    return this.blocked.check(address, family);
  }
}

type AllowedEntry = { kind: 'name'; name: string } | { kind: 'subnet'; address: string; prefix: number; family: 'ipv4' | 'ipv6' };

/** `host, 10.0.0.0/8, ::1` into entries; throws a plain Error naming a malformed one. */
export function parseAllowedHosts(list: string): AllowedEntry[] {
  const entries: AllowedEntry[] = [];
  for (const part of list
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const [address, bits, extra] = part.split('/');
    const version = isIP(address ?? '');
    if (version !== 0 && extra === undefined) {
      const max = version === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (!/^\d{1,3}$/.test(bits ?? String(max)) || prefix > max) throw new Error(`"${part}" is not a valid CIDR`);
      entries.push({ kind: 'subnet', address: address!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' });
    } else if (/^[a-z0-9]([a-z0-9-]{0,62}\.?)*$/i.test(part) && part.length <= 253) {
      entries.push({ kind: 'name', name: part.toLowerCase().replace(/\.$/, '') });
    } else throw new Error(`"${part}" is neither a host name, an address nor a CIDR`);
  }
  return entries;
}

function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}
