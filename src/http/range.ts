import { ContentRangeInvalid, RangeNotSatisfiable } from './edge-errors';
import type { ByteRange } from '../storage/blob-store';

/**
 * A single `bytes=` range of a blob (RFC 9110 §14.1.2). Multiple ranges or
 * syntax Berth does not understand mean "the whole blob", as the RFC lets
 * a server ignore Range; an unsatisfiable range is a 416, and so is an invalid
 * one (last-pos before first-pos, e.g. `bytes=500-0`): §14.2 lets a server
 * reject it, and the OCI conformance suite expects 416 as Go's http.ServeContent
 * (CNCF Distribution) answers.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(size - suffix, 0);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) throw unsatisfiable(size);
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): RangeNotSatisfiable {
  return new RangeNotSatisfiable(size);
}

/** A chunk's position from a PATCH/PUT Content-Range (`<start>-<end>`, as the spec writes it). */
export function parseContentRange(header: string | undefined): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) throw new ContentRangeInvalid(`malformed Content-Range: ${header}`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new ContentRangeInvalid(`malformed Content-Range: ${header}`);
  return { start, end };
}
