import { rmSync } from 'node:fs';
import path from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry';

/** /readyz on the embedded default, whose blob storage is a directory under the data directory. */
describe('GET /readyz on filesystem blob storage', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await startTestRegistry();
  });
  afterEach(() => t.close());

  it('is 503 naming the blob storage when its directory is gone, while /healthz stays 200', async () => {
    rmSync(path.join(t.dataDir, 'storage'), { recursive: true, force: true });
    const res = await t.http.get('/readyz').expect(503);
    expect(res.body.status).toBe('unavailable');
    expect(res.body.failed).toEqual(['blob-storage']);
    expect(res.body.checks['metadata-db']).toBe('ok');
    await t.http.get('/healthz').expect(200);
  });
});
