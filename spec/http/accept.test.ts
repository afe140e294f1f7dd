import { acceptedMediaTypes } from '../../src/http/accept';
import { MediaType } from '../../src/oci/media-types';

describe('acceptedMediaTypes', () => {
  it('means anything without a header', () => {
    expect(acceptedMediaTypes(undefined)).toBeNull();
  });

  it.each(['*/*', 'application/*', `${MediaType.OCI_MANIFEST}, */*`, `*/*;q=0.8, ${MediaType.OCI_INDEX}`])(
    'means anything with a wildcard (%p)',
    (header) => {
      expect(acceptedMediaTypes(header)).toBeNull();
    },
  );

  it('reads a comma-separated list', () => {
    expect(acceptedMediaTypes(`${MediaType.OCI_MANIFEST}, ${MediaType.OCI_INDEX}`)).toEqual(
      new Set([MediaType.OCI_MANIFEST, MediaType.OCI_INDEX]),
    );
  });

  it('reads several headers, as Docker clients send them', () => {
    expect(acceptedMediaTypes([MediaType.DOCKER_MANIFEST, `${MediaType.DOCKER_MANIFEST_LIST},${MediaType.OCI_INDEX}`])).toEqual(
      new Set([MediaType.DOCKER_MANIFEST, MediaType.DOCKER_MANIFEST_LIST, MediaType.OCI_INDEX]),
    );
  });

  it('drops parameters and lowercases types', () => {
    expect(acceptedMediaTypes('Application/Vnd.OCI.Image.Manifest.v1+JSON; q=0.5')).toEqual(new Set([MediaType.OCI_MANIFEST]));
  });

  it('excludes types with q=0', () => {
    expect(acceptedMediaTypes(`${MediaType.OCI_MANIFEST}, ${MediaType.OCI_INDEX};q=0`)).toEqual(new Set([MediaType.OCI_MANIFEST]));
    expect(acceptedMediaTypes(`${MediaType.OCI_MANIFEST}, ${MediaType.OCI_INDEX};q=0.0`)).toEqual(new Set([MediaType.OCI_MANIFEST]));
  });

  it('skips empty entries', () => {
    expect(acceptedMediaTypes(`, ${MediaType.OCI_MANIFEST},,`)).toEqual(new Set([MediaType.OCI_MANIFEST]));
  });
});
