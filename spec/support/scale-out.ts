import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../src/config';
import { createS3Client } from '../../src/storage/s3/s3-client';

/** A variable the jest globalSetup (spec/support/services.ts) provides; missing means a broken setup, not a skip. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: spec/support/services.ts should have started the server`);
  return value;
}

/** Berth's `s3` settings for the test server's bucket, under `prefix`. */
export function testS3Settings(prefix: string): NonNullable<Config['s3']> {
  return {
    bucket: requiredEnv('S3_BUCKET'),
    endpoint: requiredEnv('S3_ENDPOINT'),
    region: process.env.S3_REGION ?? 'us-east-1',
    accessKeyId: requiredEnv('S3_ACCESS_KEY_ID'),
    secretAccessKey: requiredEnv('S3_SECRET_ACCESS_KEY'),
    forcePathStyle: true,
    redirect: false,
    prefix,
  };
}

/** An S3 client for the test server named by the S3_* variables. */
export function testS3Client(): S3Client {
  return createS3Client({
    endpoint: requiredEnv('S3_ENDPOINT'),
    region: process.env.S3_REGION ?? 'us-east-1',
    accessKeyId: requiredEnv('S3_ACCESS_KEY_ID'),
    secretAccessKey: requiredEnv('S3_SECRET_ACCESS_KEY'),
    forcePathStyle: true,
  });
}
