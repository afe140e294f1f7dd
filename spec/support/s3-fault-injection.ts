import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { requiredEnv } from './scale-out';
import type { FaultSwitch, S3FaultName } from './fault-injection';

const COMMAND_HEADER = 'x-berth-test-command';

/**
 * An S3 client for the test server whose HTTP handler fails the armed command
 * (`s3.<CommandName>`) the way S3 does: a real error response for the SDK's
 * own deserializer to turn into its error, or a socket error. The driver's
 * translation sees exactly what it would see from S3. One attempt per
 * command: a fault here stands for one that outlasted the SDK's retries.
 */
export function faultyS3Client(faults: FaultSwitch): S3Client {
  const client = new S3Client({
    region: process.env.S3_REGION ?? 'us-east-1',
    endpoint: requiredEnv('S3_ENDPOINT'),
    forcePathStyle: true,
    credentials: { accessKeyId: requiredEnv('S3_ACCESS_KEY_ID'), secretAccessKey: requiredEnv('S3_SECRET_ACCESS_KEY') },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  // Names each request with its command, for the handler below (signed with it, so it stays on).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers && context.commandName) request.headers[COMMAND_HEADER] = context.commandName;
      return next(args);
    },
    { step: 'build', name: 'berthTestCommandName' },
  );
  const handler = client.config.requestHandler as unknown as {
    handle(request: { method: string; headers: Record<string, string> }, options?: unknown): Promise<{ response: unknown }>;
  };
  const handle = handler.handle.bind(handler);
  handler.handle = async (request, options) => {
    const command = request.headers[COMMAND_HEADER] ?? 'unknown';
    const armed = await takeS3Fault(faults, `s3.${command}`);
    if (armed === 'ECONNRESET') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    if (armed) return { response: errorResponse(armed, request.method) };
    return handle(request, options);
  };
  return client;
}

async function takeS3Fault(faults: FaultSwitch, operation: string): Promise<S3FaultName | null> {
  return (faults.take(operation)?.fault as S3FaultName | undefined) ?? null;
}

function errorResponse(fault: Exclude<S3FaultName, 'ECONNRESET'>, method: string) {
  const [statusCode, message] =
    fault === 'SlowDown' ? [503, 'Please reduce your request rate.'] : [500, 'We encountered an internal error.'];
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault}</Code><Message>${message}</Message><RequestId>injected</RequestId></Error>`;
  return {
    statusCode,
    reason: fault,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'injected' },
    body: Readable.from(method === 'HEAD' ? [] : [Buffer.from(xml)]),
  };
}
