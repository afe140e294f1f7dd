import { ERROR_CODES, isRegistryError, RegistryError } from '../../src/http/registry-error';

describe('RegistryError', () => {
  it('serializes to the OCI error envelope with the table message and the detail', () => {
    const err = new RegistryError('BLOB_UNKNOWN', { digest: 'sha256:abc' });
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: 'sha256:abc' } }],
    });
  });

  it('renders an absent detail as null', () => {
    expect(new RegistryError('NAME_UNKNOWN').toJSON()).toEqual({
      errors: [{ code: 'NAME_UNKNOWN', message: ERROR_CODES.NAME_UNKNOWN.message, detail: null }],
    });
  });

  it('keeps a string detail in the envelope and in the message', () => {
    const err = new RegistryError('DIGEST_INVALID', 'digest is required');
    expect(err.toJSON().errors[0]?.detail).toBe('digest is required');
    expect(err.message).toBe('DIGEST_INVALID: digest is required');
  });

  it("takes the code's status unless told otherwise, and carries headers", () => {
    expect(new RegistryError('MANIFEST_UNKNOWN').status).toBe(404);
    const err = new RegistryError('BLOB_UPLOAD_INVALID', 'out of order', { status: 416, headers: { Range: '0-9' } });
    expect(err.status).toBe(416);
    expect(err.headers).toEqual({ Range: '0-9' });
    expect(err.toJSON().errors[0]?.code).toBe('BLOB_UPLOAD_INVALID');
  });

  it('is recognised by isRegistryError and nothing else is', () => {
    expect(isRegistryError(new RegistryError('UNKNOWN'))).toBe(true);
    expect(isRegistryError(new Error('UNKNOWN'))).toBe(false);
    expect(isRegistryError({ code: 'UNKNOWN' })).toBe(false);
  });

  it('maps the spec codes to the statuses distribution/distribution gives them', () => {
    const statuses = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, v]) => [code, v.status]));
    expect(statuses).toMatchObject({
      BLOB_UNKNOWN: 404,
      BLOB_UPLOAD_INVALID: 400,
      BLOB_UPLOAD_UNKNOWN: 404,
      DIGEST_INVALID: 400,
      MANIFEST_BLOB_UNKNOWN: 400,
      MANIFEST_INVALID: 400,
      MANIFEST_UNKNOWN: 404,
      NAME_INVALID: 400,
      NAME_UNKNOWN: 404,
      SIZE_INVALID: 400,
      UNAUTHORIZED: 401,
      DENIED: 403,
      UNSUPPORTED: 405,
      TOOMANYREQUESTS: 429,
    });
  });
});
