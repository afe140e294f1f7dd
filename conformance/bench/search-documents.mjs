// The search benches' packages and queries (search.mjs over HTTP, search-index.mjs at the index level):
// a deterministic generator, so every run, and both databases, index the same documents and ask the
// same queries. Call documentOf(0 … N-1) in order, then queryMix: the sequence of random draws is
// what makes a run repeat an earlier one.
import { createHash } from 'node:crypto';

export const sha256 = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
export const ms = (n) => `${n.toFixed(2)} ms`;

let seed = 17;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = (a) => a[Math.floor(rand() * a.length)];
const VOCABULARY = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}${'aeiou'[i % 5]}x`);
const SERVICES = ['api', 'web', 'worker', 'db', 'cache', 'gateway', 'auth', 'search', 'billing', 'proxy', 'cron', 'ui'];
const LICENSES = ['MIT', 'Apache-2.0', 'GPL-3.0', 'BSD-3-Clause', 'MPL-2.0'];

export function documentOf(i) {
  const org = `org${i % 1000}`;
  const name = `${org}/${pick(SERVICES)}-${i.toString(36)}${rand() < 0.3 ? `/${pick(SERVICES)}` : ''}`;
  const words = Array.from({ length: 8 + Math.floor(rand() * 12) }, () => pick(VOCABULARY)).join(' ');
  const platforms = rand() < 0.5 ? ['linux/amd64'] : ['linux/amd64', 'linux/arm64', 'linux/arm64/v8'];
  return {
    name,
    owner: org,
    ownerKind: 'org',
    ownerId: (i % 1000) + 1,
    repository: rand() < 0.2 ? { id: i + 1, ownerId: (i % 1000) + 1, fullName: `${org}/src-${i}` } : null,
    visibility: rand() < 0.7 ? 'public' : 'private',
    description: words,
    labels: { 'org.opencontainers.image.licenses': pick(LICENSES), 'org.opencontainers.image.vendor': `Vendor ${i % 300}` },
    tags: ['latest', ...Array.from({ length: Math.floor(rand() * 4) }, (_, k) => `v${k}.${i % 10}`)],
    platforms,
    digests: Array.from({ length: 3 }, (_, k) => sha256(`${i}/${k}`)),
    downloads: Math.floor(1000 / (1 + rand() * 999)),
    updatedAt: 1_700_000_000_000 + i * 1000,
    latestTag: 'latest',
    indexedAt: Date.now(),
  };
}

export const CLASSES = [
  'exact name',
  'name without owner',
  'name prefix',
  'segment (common word)',
  'description word',
  'two description words',
  'segment + org:',
  'label: + word',
  'tag: + platform: only',
  'digest prefix',
  'is:public only',
  'empty query',
];

export function queryMix(docs) {
  const q = [];
  for (let i = 0; i < 200; i++) {
    const d = pick(docs);
    const service = d.name.split('/')[1].split('-')[0];
    q.push(
      d.name,
      d.name.split('/').slice(1).join('/'),
      d.name.slice(0, d.name.length - 2),
      service,
      d.description.split(' ')[0],
      d.description.split(' ').slice(1, 3).join(' '),
      `${service} org:${d.owner}`,
      `label:org.opencontainers.image.licenses=${pick(LICENSES)} ${d.description.split(' ')[2]}`,
      `tag:v1.${i % 10} platform:linux/arm64`,
      d.digests[0].slice(7, 7 + 16),
      'is:public',
      '',
    );
  }
  return q;
}
