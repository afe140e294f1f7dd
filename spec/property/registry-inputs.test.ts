/**
 * Properties of the registry API's untrusted inputs (issue 20): repository
 * names, references, digests and upload ids in the path, `?digest=` and
 * `?mount=&from=`, `Range`, `Content-Range`, `Accept`, and `n`/`last`,
 * through the app and, where the parser is a pure function, directly. The
 * answer is never 5xx: a success, or the registry's error JSON with the
 * status of its code (400 bad input, 404 unknown, 416 bad range, …).
 */
import fc from 'fast-check';
import { acceptedMediaTypes } from '../../src/http/accept';
import { parseByteRange, parseContentRange } from '../../src/http/range';
import { isValidUploadId, matchRoute } from '../../src/http/routes';
import { tryParseDigest } from '../../src/oci/digest';
import { DomainError } from '../../src/domain-error';
import { errorAnswer } from '../../src/http/error-mapping';
import type { ErrorCode } from '../../src/http/registry-error';
import { MediaType } from '../../src/oci/media-types';
import { isValidName, isValidTag } from '../../src/oci/reference';
import { ADMIN_PASSWORD, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { getBlob, getManifest, seedPackage, type PackageContent } from '../auth/support/registry-ops';
import { blob } from '../support/oci';
import { checkProperty, expectAnswer, headerValue, pathSegment, printPropertyCounts } from './support/properties';

const admin = basic('admin', ADMIN_PASSWORD);
/** Every status a refusal may have here; which one is checked against the code by expectErrorAnswer. */
const REFUSALS = [400, 403, 404, 405, 413, 415, 416];
const OK = [200, 201, 202, 204, 206, 304, 307];

/** A repository name: valid components, valid components joined oddly, or any path text. */
const repositoryName: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(fc.stringMatching(/^[a-z0-9]{1,6}([._-]{1,2}[a-z0-9]{1,4})?$/), { minLength: 1, maxLength: 4 })
    .map((c) => `admin/${c.join('/')}`),
  fc
    .array(fc.oneof(fc.stringMatching(/^[a-z0-9]{1,6}$/), fc.constantFrom('..', '.', '', '%2F', '%2e%2e', 'A', '__', '-a', 'a-')), {
      minLength: 1,
      maxLength: 5,
    })
    .map((c) => c.join('/')),
  pathSegment.filter((s) => s.length > 0),
  fc.constant(`admin/${'a'.repeat(260)}`),
);

/** A digest: valid, nearly valid (wrong length, case, algorithm) or any path text. */
const digestText: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`),
  fc
    .tuple(fc.constantFrom('sha256', 'sha512', 'SHA256', 'sha384', 'md5', 'sha256+b64', ''), fc.stringMatching(/^[a-fA-F0-9=_-]{0,130}$/))
    .map(([a, h]) => `${a}:${h}`),
  pathSegment,
);

describe('registry inputs never answer 5xx', () => {
  let t: AuthTestRegistry;
  let content: PackageContent;

  beforeAll(async () => {
    t = await startAuthRegistry();
    content = await seedPackage(t.http, admin, 'admin/app', 'v1');
  });
  afterAll(async () => {
    printPropertyCounts('spec/property/registry-inputs.test.ts');
    await t?.close();
  });

  type Method = 'get' | 'head' | 'put' | 'patch' | 'delete' | 'post';
  const send = (method: Method, path: string) => t.http[method](path).set('Authorization', admin);

  // Destructive methods work on admin/scratch, so admin/app stays intact for the other properties.
  // `codes`: the refusals the route may give for that slot; a bad id must never fall through to "no such endpoint".
  const pathCases: ReadonlyArray<{
    label: string;
    slot: fc.Arbitrary<string>;
    methods: Method[];
    path: (slot: string) => string;
    codes: ErrorCode[];
  }> = [
    {
      label: 'repository names',
      slot: repositoryName,
      methods: ['get', 'head'],
      path: (n) => `/v2/${n}/tags/list`,
      codes: ['NAME_INVALID', 'NAME_UNKNOWN', 'UNSUPPORTED'],
    },
    {
      label: 'repository names in manifest paths',
      slot: repositoryName,
      methods: ['get', 'head', 'put', 'delete'],
      path: (n) => `/v2/${n}/manifests/v1`,
      codes: ['NAME_INVALID', 'NAME_UNKNOWN', 'MANIFEST_UNKNOWN', 'MANIFEST_INVALID', 'UNSUPPORTED', 'DENIED'],
    },
    {
      label: 'repository names in upload paths',
      slot: repositoryName,
      methods: ['post'],
      path: (n) => `/v2/${n}/blobs/uploads/`,
      codes: ['NAME_INVALID', 'DENIED'],
    },
    {
      label: 'references',
      slot: fc.oneof(pathSegment, digestText, fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,140}$/)),
      methods: ['get', 'head'],
      path: (r) => `/v2/admin/app/manifests/${r}`,
      codes: ['MANIFEST_UNKNOWN', 'DIGEST_INVALID'],
    },
    {
      label: 'references (put, delete)',
      slot: fc.oneof(pathSegment, digestText),
      methods: ['put', 'delete'],
      path: (r) => `/v2/admin/scratch/manifests/${r}`,
      codes: ['MANIFEST_UNKNOWN', 'MANIFEST_INVALID', 'DIGEST_INVALID', 'NAME_UNKNOWN', 'UNSUPPORTED'],
    },
    {
      label: 'blob digests',
      slot: digestText,
      methods: ['get', 'head'],
      path: (d) => `/v2/admin/app/blobs/${d}`,
      codes: ['DIGEST_INVALID', 'BLOB_UNKNOWN'],
    },
    {
      label: 'blob digests (delete)',
      slot: digestText,
      methods: ['delete'],
      path: (d) => `/v2/admin/scratch/blobs/${d}`,
      codes: ['DIGEST_INVALID', 'BLOB_UNKNOWN', 'NAME_UNKNOWN', 'UNSUPPORTED'],
    },
    {
      label: 'referrers digests',
      slot: digestText,
      methods: ['get'],
      path: (d) => `/v2/admin/app/referrers/${d}`,
      codes: ['DIGEST_INVALID'],
    },
    {
      label: 'upload ids',
      slot: fc.oneof(pathSegment, fc.uuid()),
      methods: ['get', 'patch', 'put', 'delete'],
      path: (id) => `/v2/admin/scratch/blobs/uploads/${id}`,
      codes: ['BLOB_UPLOAD_UNKNOWN'],
    },
  ];

  it.each(pathCases)('$label in the path', async ({ label, slot, methods, path, codes }) => {
    // An empty slot is another endpoint (or none): `/manifests/` names no manifest.
    await checkProperty(
      `path: ${label}`,
      fc.tuple(
        slot.filter((v) => v !== ''),
        fc.constantFrom(...methods),
      ),
      async ([value, method]) => {
        const res = await send(method, path(value));
        expectAnswer(res, OK, REFUSALS, `${method.toUpperCase()} ${path(value)}`, codes);
      },
      200,
    );
  });

  it('?digest= and ?mount=&from= on POST /v2/<name>/blobs/uploads/', async () => {
    const query = fc.oneof(
      digestText.map((d) => `digest=${d}`),
      fc.tuple(digestText, repositoryName).map(([d, from]) => `mount=${d}&from=${from}`),
      fc.constantFrom(
        `mount=${content.layer.digest}&from=admin/app`,
        `mount=${content.layer.digest}`,
        'from=admin/app',
        'digest=',
        'digest&digest',
        'mount=&from=',
      ),
    );
    await checkProperty(
      'query: digest, mount and from',
      fc.tuple(query, fc.uint8Array({ maxLength: 16 })),
      async ([q, body]) => {
        const res = await send('post', `/v2/admin/scratch/blobs/uploads/?${q}`)
          .set('Content-Type', 'application/octet-stream')
          .send(Buffer.from(body));
        expectAnswer(res, [201, 202], REFUSALS, `POST ?${q}`);
      },
      200,
    );
  });

  it('?digest= on PUT /v2/<name>/blobs/uploads/<id> completing a real upload', async () => {
    await checkProperty(
      'query: digest (PUT upload)',
      fc.tuple(digestText, fc.uint8Array({ maxLength: 12 })),
      async ([digest, body]) => {
        const started = await send('post', '/v2/admin/scratch/blobs/uploads/');
        if (started.status !== 202) throw new Error(`starting an upload: ${started.status}`);
        const location = String(started.headers.location);
        const res = await send('put', `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`)
          .set('Content-Type', 'application/octet-stream')
          .send(Buffer.from(body));
        expectAnswer(res, [201], [400], `PUT ?digest=${digest} with ${body.length} bytes`, [
          'DIGEST_INVALID',
          'SIZE_INVALID',
          'BLOB_UPLOAD_INVALID',
        ]);
      },
      150,
    );
  });

  /** A Range header: well-formed, nearly well-formed, or any text. */
  const rangeHeader: fc.Arbitrary<string> = fc.oneof(
    fc
      .tuple(
        fc.option(fc.oneof(fc.nat(100), fc.constant('99999999999999999999999'), fc.constant('-1'))),
        fc.option(fc.oneof(fc.nat(100), fc.constant('1e3'))),
      )
      .map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
    fc
      .array(
        fc.tuple(fc.nat(50), fc.nat(50)).map(([a, b]) => `${a}-${b}`),
        { minLength: 1, maxLength: 3 },
      )
      .map((r) => `bytes=${r.join(',')}`),
    fc.constantFrom('bytes=', 'bytes=-', 'bytes=-0', 'bytes=0-0', 'items=0-1', 'bytes 0-1', 'bytes=0x1-2', ' bytes=1-2 ', 'bytes=2-1'),
    headerValue(40),
  );

  it('Range on GET /v2/<name>/blobs/<digest>', async () => {
    const size = content.layer.content.length;
    await checkProperty(
      'header: Range (GET blob)',
      rangeHeader,
      async (range) => {
        const res = await getBlob(t.http, admin, 'admin/app', content.layer.digest).set('Range', range);
        expectAnswer(res, [200, 206], [416], `Range: ${range}`);
        if (res.status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range']));
          if (!m || Number(m[3]) !== size || Number(m[2]) - Number(m[1]) + 1 !== Number(res.headers['content-length'])) {
            throw new Error(`206 with a wrong Content-Range for Range: ${range}: ${res.headers['content-range']}`);
          }
        }
        if (res.status === 416 && res.headers['content-range'] !== `bytes */${size}`)
          throw new Error(`416 without Content-Range for Range: ${range}`);
      },
      250,
    );
  });

  it('parseByteRange returns a range inside the blob, nothing, or a 416', async () => {
    await checkProperty(
      'header: Range (parseByteRange directly)',
      fc.tuple(rangeHeader, fc.nat(1000)),
      ([range, size]) => {
        try {
          const r = parseByteRange(range, size);
          if (r && !(Number.isSafeInteger(r.start) && r.start >= 0 && r.start <= r.end && r.end < size))
            throw new Error(`bad range ${JSON.stringify(r)} of ${size} for ${range}`);
        } catch (err) {
          if (!(err instanceof DomainError) || errorAnswer(err, 'registry').status !== 416) throw err;
        }
      },
      500,
    );
  });

  /** A Content-Range header: well-formed, nearly well-formed, or any text. */
  const contentRangeHeader: fc.Arbitrary<string> = fc.oneof(
    fc
      .tuple(fc.constantFrom('', 'bytes ', 'bytes=', 'items '), fc.nat(40), fc.nat(40), fc.constantFrom('', '/*', '/20', '/x'))
      .map(([p, a, b, s]) => `${p}${a}-${b}${s}`),
    fc.constantFrom('0-99999999999999999999999', '-1-2', '0--1', '1-0', '0-', '-', ''),
    headerValue(30),
  );

  it('Content-Range on PATCH /v2/<name>/blobs/uploads/<id>', async () => {
    await checkProperty(
      'header: Content-Range (PATCH upload)',
      fc.tuple(contentRangeHeader, fc.uint8Array({ maxLength: 12 })),
      async ([range, body]) => {
        const started = await send('post', '/v2/admin/scratch/blobs/uploads/');
        if (started.status !== 202) throw new Error(`starting an upload: ${started.status}`);
        const res = await send('patch', String(started.headers.location))
          .set('Content-Type', 'application/octet-stream')
          .set('Content-Range', range)
          .send(Buffer.from(body));
        expectAnswer(res, [202], [400, 416], `Content-Range: ${range} with ${body.length} bytes`);
      },
      200,
    );
  });

  it('parseContentRange returns start <= end or refuses with 416', async () => {
    await checkProperty(
      'header: Content-Range (parseContentRange directly)',
      contentRangeHeader,
      (range) => {
        try {
          const r = parseContentRange(range);
          if (r && !(r.start >= 0 && r.start <= r.end)) throw new Error(`bad chunk range ${JSON.stringify(r)} for ${range}`);
        } catch (err) {
          if (!(err instanceof DomainError) || errorAnswer(err, 'registry').status !== 416) throw err;
        }
      },
      500,
    );
  });

  // Several Accept headers reach the server joined by commas, so one joined header stands for them.
  const acceptHeader: fc.Arbitrary<string[]> = fc.array(
    fc.oneof(
      fc
        .array(
          fc.tuple(
            fc.constantFrom(
              MediaType.OCI_MANIFEST,
              MediaType.OCI_INDEX,
              MediaType.DOCKER_MANIFEST,
              '*/*',
              'application/*',
              '',
              'x/y',
              'APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON',
            ),
            fc.constantFrom('', ';q=0', ';q=0.5', ';q=x', ';', ';q=', ';;q=0'),
          ),
          { maxLength: 4 },
        )
        .map((parts) => parts.map(([type, q]) => `${type}${q}`).join(',')),
      headerValue(60),
    ),
    { minLength: 1, maxLength: 3 },
  );

  it('Accept on GET /v2/<name>/manifests/<tag>', async () => {
    await checkProperty(
      'header: Accept (GET manifest)',
      acceptHeader,
      async (accept) => {
        const res = await getManifest(t.http, admin, 'admin/app', 'v1').set('Accept', accept.join(', '));
        expectAnswer(res, [200], [404], `Accept: ${JSON.stringify(accept)}`);
      },
      250,
    );
  });

  it('acceptedMediaTypes never throws', async () => {
    await checkProperty(
      'header: Accept (acceptedMediaTypes directly)',
      acceptHeader,
      (accept) => {
        const types = acceptedMediaTypes(accept);
        if (types !== null && [...types].some((x) => x !== x.toLowerCase() || x === ''))
          throw new Error(`odd types for ${accept.join(', ')}`);
      },
      500,
    );
  });

  const pageQuery = fc.tuple(
    fc.option(
      fc.oneof(
        fc.nat(20).map(String),
        fc.constantFrom('-1', '0', '1e3', '99999999999999999999', ' 1', '1.5', '0x10', ''),
        fc.string({ maxLength: 8 }),
      ),
    ),
    fc.option(fc.oneof(fc.constantFrom('v1', 'admin/app', '', '%00', '\u{1F600}'), fc.string({ maxLength: 20 }))),
  );

  it.each([
    ['tags', '/v2/admin/app/tags/list'],
    ['catalog', '/v2/_catalog'],
  ])('n and last on %s', async (label, path) => {
    await checkProperty(
      `query: n and last (${label})`,
      pageQuery,
      async ([n, last]) => {
        const query = new URLSearchParams();
        if (n !== null) query.set('n', n);
        if (last !== null) query.set('last', last);
        const res = await send('get', `${path}?${query.toString()}`);
        expectAnswer(res, [200], [400], `GET ${path}?${query.toString()}`);
      },
      200,
    );
  });

  it('the grammars never throw, and what they accept holds no traversal', async () => {
    const text = fc.oneof(pathSegment, fc.string({ maxLength: 80 }), repositoryName, digestText);
    await checkProperty(
      'grammar: names, tags, digests, upload ids, routes (directly)',
      text,
      (s) => {
        if (isValidName(s) && (s.includes('..') || s.includes('%') || s.startsWith('/') || s.length > 255))
          throw new Error(`name accepted: ${s}`);
        if (isValidTag(s) && (s.includes('/') || s.length > 128)) throw new Error(`tag accepted: ${s}`);
        const d = tryParseDigest(s);
        if (d && d.value !== s) throw new Error(`digest ${s} parsed as ${d.value}`);
        if (isValidUploadId(s) && /[./%]/.test(s)) throw new Error(`upload id accepted: ${s}`);
        const match = matchRoute(`admin/app/blobs/uploads/${s}`);
        if (match?.route !== 'upload' && match?.route !== 'uploads') throw new Error(`upload path routed to ${match?.route}: ${s}`);
      },
      500,
    );
  });

  it('the registry still works after the properties ran', async () => {
    const b = blob('after the properties');
    const pushed = await send('post', `/v2/admin/app/blobs/uploads/?digest=${b.digest}`)
      .set('Content-Type', 'application/octet-stream')
      .send(b.content);
    expect(pushed.status).toBe(201);
    expect((await getBlob(t.http, admin, 'admin/app', b.digest)).status).toBe(200);
    expect((await getManifest(t.http, admin, 'admin/app', 'v1')).status).toBe(200);
  });
});
