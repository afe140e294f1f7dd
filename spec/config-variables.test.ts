import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG, loadConfig } from '../src/config';
import { HELP } from '../src/cli/help';
import { CONFIG_VARIABLES } from '../src/config-variables';

/** The README's configuration table, `berth --help` and the loader come from one table and must agree. */
const root = path.join(__dirname, '..');

function readmeRows(): Map<string, string> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const m of readme.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)) rows.set(m[1]!, m[2]!.trim().replace(/^`|`$/g, ''));
  return rows;
}

function shown(name: string): string {
  const variable = CONFIG_VARIABLES.find((v) => v.name === name)!;
  return typeof variable.shown === 'string' ? variable.shown : variable.shown(DEFAULT_CONFIG);
}

describe('configuration variables', () => {
  it('the README table lists exactly the variables Berth reads, with the defaults --help shows', () => {
    const rows = readmeRows();
    expect([...rows.keys()].sort()).toEqual(CONFIG_VARIABLES.map((v) => v.name).sort());
    for (const [name, defaultText] of rows) expect([name, defaultText]).toEqual([name, shown(name)]);
  });

  it('berth --help lists every one, with its default', () => {
    for (const v of CONFIG_VARIABLES) expect(HELP).toMatch(new RegExp(`^  ${v.name} +.*\\(default ${escape(shown(v.name))}\\)$`, 'm'));
  });

  it('each variable sets what it says, and the S3 defaults shown are the loader’s', () => {
    const config = loadConfig({ S3_BUCKET: 'b', DATABASE_URL: 'postgres://h/db', REDIS_URL: 'redis://h', BERTH_WORKERS: '3' });
    expect(config.s3).toMatchObject({ bucket: 'b', region: shown('S3_REGION'), forcePathStyle: false, redirect: false });
    expect(String(config.s3?.forcePathStyle)).toBe(shown('S3_FORCE_PATH_STYLE'));
    expect(String(config.s3?.redirect)).toBe(shown('S3_REDIRECT'));
    expect(config.database?.url).toBe('postgres://h/db');
    expect(config.redis?.url).toBe('redis://h');
    expect(config.workers).toBe(3);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
