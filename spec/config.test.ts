import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, listenAddress, loadConfig, workerCount } from '../src/config';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'berth-config-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function configFile(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig accepted the configuration');
}

describe('loadConfig', () => {
  it('gives the defaults with an empty environment, dataDir made absolute', () => {
    expect(loadConfig({})).toEqual({ ...DEFAULT_CONFIG, dataDir: path.resolve(DEFAULT_CONFIG.dataDir) });
  });

  it('does not read process.env when given an environment', () => {
    const saved = process.env.BERTH_ADDR;
    process.env.BERTH_ADDR = 'not an address';
    try {
      expect(loadConfig({}).addr).toBe(DEFAULT_CONFIG.addr);
    } finally {
      if (saved === undefined) delete process.env.BERTH_ADDR;
      else process.env.BERTH_ADDR = saved;
    }
  });

  it('applies every environment override', () => {
    const config = loadConfig({
      BERTH_ADDR: '0.0.0.0:6000',
      BERTH_DATA: '/var/lib/berth',
      BERTH_LOG_LEVEL: 'debug',
      BERTH_UPLOAD_TTL_SECONDS: '60',
      BERTH_MAX_PAGE_SIZE: '50',
      BERTH_SHUTDOWN_GRACE_SECONDS: '0',
      BERTH_PUBLIC_URL: 'https://registry.example',
      BERTH_AUTH: 'none',
      BERTH_ADMIN_PASSWORD: 'correct horse',
      BERTH_TOKEN_TTL_SECONDS: '120',
      BERTH_WORKERS: '3',
      BERTH_DOWNLOADS_RETENTION_DAYS: '45',
      BERTH_DOWNLOAD_COUNTS: 'false',
      BERTH_RESTORE_WINDOW_DAYS: '14',
      BERTH_GC_INTERVAL_HOURS: '6',
      BERTH_GC_GRACE_SECONDS: '0',
      BERTH_RETENTION_INTERVAL_HOURS: '0',
      BERTH_QUOTA_BYTES: '1073741824',
      BERTH_QUOTA_VERSIONS_PER_PACKAGE: '50',
      BERTH_SPARSE_MANIFESTS: 'mirror/*, acme/base',
      BERTH_AUDIT_RETENTION_DAYS: '7',
      BERTH_WEBHOOK_ALLOWED_HOSTS: 'hooks.internal, 10.1.0.0/16',
      BERTH_PROMOTION_ALLOWED_HOSTS: 'registry.internal',
      BERTH_PROXIES: '[{"prefix":"hub","url":"https://registry-1.docker.io","tagTtlSeconds":60,"access":"anonymous"}]',
    });
    expect(config).toEqual({
      addr: '0.0.0.0:6000',
      dataDir: '/var/lib/berth',
      logLevel: 'debug',
      uploads: { sessionTtlSeconds: 60, purgeIntervalSeconds: DEFAULT_CONFIG.uploads.purgeIntervalSeconds },
      maxPageSize: 50,
      proxies: [{ prefix: 'hub', url: 'https://registry-1.docker.io', tagTtlSeconds: 60, access: 'anonymous' }],
      downloads: { counting: false, flushIntervalSeconds: DEFAULT_CONFIG.downloads.flushIntervalSeconds, retentionDays: 45 },
      versions: { restoreWindowDays: 14 },
      gc: { intervalHours: 6, graceSeconds: 0 },
      retention: { intervalHours: 0 },
      quotas: { bytes: 1073741824, versionsPerPackage: 50 },
      manifests: { sparse: 'mirror/*, acme/base' },
      audit: { retentionDays: 7 },
      webhooks: { allowedHosts: 'hooks.internal, 10.1.0.0/16' },
      promotion: { allowedHosts: 'registry.internal' },
      workers: 3,
      shutdownGraceSeconds: 0,
      publicUrl: 'https://registry.example',
      auth: { ...DEFAULT_CONFIG.auth, mode: 'none', adminPassword: 'correct horse', tokenTtlSeconds: 120 },
    });
  });

  it('reads unlimited quotas as null and refuses a negative one', () => {
    expect(loadConfig({ BERTH_QUOTA_BYTES: 'unlimited', BERTH_QUOTA_VERSIONS_PER_PACKAGE: '' }).quotas).toEqual({
      bytes: null,
      versionsPerPackage: null,
    });
    expect(configError({ BERTH_QUOTA_BYTES: '-1' }).message).toContain('quotas');
  });

  it('ignores empty environment variables', () => {
    expect(loadConfig({ BERTH_ADDR: '', BERTH_MAX_PAGE_SIZE: '' }).addr).toBe(DEFAULT_CONFIG.addr);
  });

  it.each(['[::1]:5000', 'localhost:80', ':5000', 'registry.example.com:443'])('accepts addr %p', (addr) => {
    expect(loadConfig({ BERTH_ADDR: addr }).addr).toBe(addr);
  });

  it('reads a BERTH_CONFIG file, merging nested sections over the defaults', () => {
    const file = configFile('partial.json', { maxPageSize: 7, uploads: { purgeIntervalSeconds: 30 } });
    const config = loadConfig({ BERTH_CONFIG: file });
    expect(config.maxPageSize).toBe(7);
    expect(config.uploads).toEqual({ sessionTtlSeconds: DEFAULT_CONFIG.uploads.sessionTtlSeconds, purgeIntervalSeconds: 30 });
    expect(config.addr).toBe(DEFAULT_CONFIG.addr);
  });

  it('lets the environment override the file', () => {
    const file = configFile('overridden.json', { maxPageSize: 7, addr: '127.0.0.1:7000', uploads: { sessionTtlSeconds: 5 } });
    const config = loadConfig({ BERTH_CONFIG: file, BERTH_MAX_PAGE_SIZE: '9', BERTH_UPLOAD_TTL_SECONDS: '11' });
    expect(config.maxPageSize).toBe(9);
    expect(config.uploads.sessionTtlSeconds).toBe(11);
    expect(config.addr).toBe('127.0.0.1:7000');
  });

  it('refuses a missing config file, naming it', () => {
    const missing = path.join(dir, 'nope.json');
    expect(configError({ BERTH_CONFIG: missing }).message).toContain(missing);
  });

  it('refuses a config file that is not JSON', () => {
    const file = configFile('broken.json', '{ "addr": ');
    expect(configError({ BERTH_CONFIG: file }).message).toContain('BERTH_CONFIG');
  });

  it.each([['null'], ['42'], ['"text"']])('refuses a config file holding %s', (content) => {
    const file = configFile(`scalar-${content.length}.json`, content);
    expect(configError({ BERTH_CONFIG: file }).message).toContain('BERTH_CONFIG');
  });

  it.each([
    ['BERTH_ADDR', 'no-port', 'addr'],
    ['BERTH_ADDR', '127.0.0.1:123456', 'addr'],
    ['BERTH_LOG_LEVEL', 'verbose', 'logLevel'],
    ['BERTH_MAX_PAGE_SIZE', '0', 'maxPageSize'],
    ['BERTH_MAX_PAGE_SIZE', '100001', 'maxPageSize'],
    ['BERTH_MAX_PAGE_SIZE', 'ten', 'maxPageSize'],
    ['BERTH_MAX_PAGE_SIZE', '1.5', 'maxPageSize'],
    ['BERTH_UPLOAD_TTL_SECONDS', '-1', 'uploads.sessionTtlSeconds'],
    ['BERTH_UPLOAD_TTL_SECONDS', '0', 'uploads.sessionTtlSeconds'],
    ['BERTH_SHUTDOWN_GRACE_SECONDS', '-1', 'shutdownGraceSeconds'],
    ['BERTH_WORKERS', '0', 'workers'],
    ['BERTH_WORKERS', '65', 'workers'],
    ['BERTH_WORKERS', 'many', 'workers'],
    // The API shows 30 days of daily counts: fewer kept would show gaps.
    ['BERTH_DOWNLOADS_RETENTION_DAYS', '29', 'downloads.retentionDays'],
    ['BERTH_AUDIT_RETENTION_DAYS', '0', 'audit.retentionDays'],
    ['BERTH_AUDIT_RETENTION_DAYS', 'forever', 'audit.retentionDays'],
  ])('refuses %s=%p, naming %s', (variable, value, setting) => {
    const err = configError({ [variable]: value });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(`${setting}:`);
  });

  it('refuses invalid values from the file, naming the setting', () => {
    const file = configFile('invalid.json', { uploads: { purgeIntervalSeconds: 'often' }, dataDir: '' });
    const err = configError({ BERTH_CONFIG: file });
    expect(err.message).toContain('uploads.purgeIntervalSeconds:');
    expect(err.message).toContain('dataDir:');
  });

  it('refuses unknown top-level keys', () => {
    const file = configFile('unknown-top.json', { maxPagesize: 10 });
    expect(configError({ BERTH_CONFIG: file }).message).toContain('maxPagesize');
  });

  it('refuses unknown keys inside a section', () => {
    const file = configFile('unknown-nested.json', { uploads: { sessionTtlSecond: 10 } });
    expect(configError({ BERTH_CONFIG: file }).message).toContain('sessionTtlSecond');
  });

  it('refuses a section replaced by a scalar', () => {
    const file = configFile('scalar-section.json', { uploads: 5 });
    expect(configError({ BERTH_CONFIG: file }).message).toContain('uploads');
  });
});

describe('workerCount', () => {
  it('is one per core for auto, at most 8, at least 1', () => {
    const auto = loadConfig({});
    expect(auto.workers).toBe('auto');
    expect(workerCount(auto, 2)).toBe(2);
    expect(workerCount(auto, 32)).toBe(8);
    expect(workerCount(auto, 0)).toBe(1);
  });

  it('is the number given, whatever the cores', () => {
    expect(workerCount(loadConfig({ BERTH_WORKERS: '1' }), 16)).toBe(1);
    expect(workerCount(loadConfig({ BERTH_WORKERS: '12' }), 2)).toBe(12);
    expect(loadConfig({ BERTH_WORKERS: 'auto' }).workers).toBe('auto');
  });
});

describe('listenAddress', () => {
  it.each([
    ['127.0.0.1:5000', { host: '127.0.0.1', port: 5000 }],
    ['[::1]:5000', { host: '::1', port: 5000 }],
    [':8080', { host: '0.0.0.0', port: 8080 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
  ])('splits %p', (addr, expected) => {
    expect(listenAddress(addr)).toEqual(expected);
  });
});
