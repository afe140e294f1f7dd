import { ConfigError, loadConfig } from '../src/config';

describe('scale-out configuration from the environment', () => {
  it('uses Redis and S3 only when REDIS_URL and S3_BUCKET are set', () => {
    const config = loadConfig({ S3_REGION: 'eu-west-1', S3_REDIRECT: 'true' });
    expect(config.redis).toBeUndefined();
    expect(config.s3).toBeUndefined();
  });

  it('reads every S3_* setting once S3_BUCKET is set, with defaults for the rest', () => {
    expect(loadConfig({ S3_BUCKET: 'b' }).s3).toEqual({
      bucket: 'b',
      region: 'us-east-1',
      forcePathStyle: false,
      redirect: false,
      prefix: '',
    });
    const config = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6379/2',
      S3_BUCKET: 'blobs',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'true',
      S3_REDIRECT: '1',
    });
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379/2', keyPrefix: 'berth:' });
    expect(config.s3).toEqual({
      bucket: 'blobs',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      forcePathStyle: true,
      redirect: true,
      prefix: '',
    });
  });

  it('refuses bad values, naming them', () => {
    expect(() => loadConfig({ REDIS_URL: '127.0.0.1:6379' })).toThrow(/redis\.url/);
    expect(() => loadConfig({ S3_BUCKET: 'b', S3_FORCE_PATH_STYLE: 'sometimes' })).toThrow(/s3\.forcePathStyle/);
    expect(() => loadConfig({ S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'only-half' })).toThrow(ConfigError);
  });
});
