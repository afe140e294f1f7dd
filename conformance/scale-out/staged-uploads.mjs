// Prints what an S3 bucket still holds of staged uploads under a key prefix, as
// `multipart=N objects=M`: S3 multipart uploads not completed or aborted
// (ListMultipartUploads), and objects under <prefix>uploads/ (Berth's upload state
// and small-chunk tails). Berth's own @aws-sdk/client-s3; the S3_* variables of
// conformance/services.sh.
//
//   node staged-uploads.mjs PREFIX
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'));
const { S3Client, ListMultipartUploadsCommand, ListObjectsV2Command } = require('@aws-sdk/client-s3');

const prefix = process.argv[2] ?? '';
const e = process.env;
const client = new S3Client({
  endpoint: e.S3_ENDPOINT,
  region: e.S3_REGION ?? 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY },
});
try {
  let multipart = 0;
  let keyMarker;
  let uploadIdMarker;
  for (let page = 0; page < 1000; page++) {
    const out = await client.send(
      new ListMultipartUploadsCommand({ Bucket: e.S3_BUCKET, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
    );
    multipart += (out.Uploads ?? []).length;
    for (const u of out.Uploads ?? []) console.error(`staged multipart upload: ${u.Key} (${u.UploadId})`);
    if (!out.IsTruncated) break;
    keyMarker = out.NextKeyMarker;
    uploadIdMarker = out.NextUploadIdMarker;
  }
  const listed = await client.send(new ListObjectsV2Command({ Bucket: e.S3_BUCKET, Prefix: `${prefix}uploads/` }));
  for (const o of listed.Contents ?? []) console.error(`staged object: ${o.Key}`);
  console.log(`multipart=${multipart} objects=${listed.KeyCount ?? 0}`);
} finally {
  client.destroy();
}
