import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * spec/backend-matrix.json, the files the postgres-redis-s3 jest project leaves out, cannot
 * rot: each entry names a spec file that exists and gives a reason of a known kind, and
 * jest.config.js leaves out exactly those files in that project and none in the embedded one.
 */
const ROOT = path.resolve(__dirname, '..');
const KINDS = ['no backend: ', 'embedded backend: ', 'picks its backends itself: '];

interface Matrix {
  embeddedOnly: Record<string, unknown>;
}
interface ProjectConfig {
  displayName: string;
  testPathIgnorePatterns: string[];
}

const matrix = JSON.parse(readFileSync(path.join(ROOT, 'spec', 'backend-matrix.json'), 'utf8')) as Matrix;
const listed = Object.entries(matrix.embeddedOnly);
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the jest configuration is CommonJS
const projects = (require(path.join(ROOT, 'jest.config.js')) as { projects: ProjectConfig[] }).projects;

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return specFiles(full);
    return entry.name.endsWith('.test.ts') ? [path.relative(ROOT, full)] : [];
  });
}

function ignoredIn(project: string, file: string): boolean {
  const config = projects.find((p) => p.displayName === project);
  if (!config) throw new Error(`jest.config.js has no project ${project}`);
  return config.testPathIgnorePatterns.some((pattern) => new RegExp(pattern.replace('<rootDir>', ROOT)).test(path.join(ROOT, file)));
}

describe('spec/backend-matrix.json', () => {
  it('lists some files', () => {
    expect(listed.length).toBeGreaterThan(0);
  });

  it.each(listed)('%s exists, is a spec file, and says why it is left out', (file, reason) => {
    expect({ file, exists: existsSync(path.join(ROOT, file)) }).toEqual({ file, exists: true });
    expect(file).toMatch(/^spec\/.+\.test\.ts$/);
    expect(typeof reason).toBe('string');
    const kind = KINDS.find((k) => (reason as string).startsWith(k));
    expect({ file, kind }).toEqual({ file, kind: expect.any(String) });
    expect((reason as string).slice(kind!.length).trim().length).toBeGreaterThanOrEqual(10);
  });

  it('is what jest.config.js leaves out of the servers project, and the embedded project runs everything', () => {
    const all = specFiles(path.join(ROOT, 'spec'));
    const left = all.filter((file) => ignoredIn('postgres-redis-s3', file));
    expect(left.sort()).toEqual(listed.map(([file]) => file).sort());
    expect(all.filter((file) => ignoredIn('embedded', file))).toEqual([]);
  });
});
