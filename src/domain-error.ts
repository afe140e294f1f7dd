/** What a refusal tells the caller: a sentence, or the facts (a digest, a tag) a client can act on. */
export type ErrorDetail = string | Readonly<Record<string, unknown>>;

/**
 * The base of every error the domain raises on purpose: a refusal or a
 * missing thing, never a bug. It knows nothing of HTTP; src/http/error-mapping.ts
 * alone turns each subclass into a status, an error code and headers.
 */
export abstract class DomainError extends Error {
  constructor(readonly detail: ErrorDetail) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.name = new.target.name;
  }
}
