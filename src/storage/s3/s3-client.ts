import { S3Client } from '@aws-sdk/client-s3';

export interface S3Connection {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

/**
 * An S3 client for Berth's settings: static credentials when both keys are
 * given, else the SDK's default chain (environment, profile, instance role).
 * Checksums only where S3 requires them: parts are verified by ETag at
 * completion, and blob digests are verified by Berth itself.
 */
export function createS3Client(connection: S3Connection): S3Client {
  return new S3Client({
    region: connection.region,
    endpoint: connection.endpoint,
    forcePathStyle: connection.forcePathStyle,
    credentials:
      connection.accessKeyId && connection.secretAccessKey
        ? { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey }
        : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
