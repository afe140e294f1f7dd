import { DomainError } from '../domain-error';

/** Input that breaks the distribution spec's grammar: pure grammar, no status (the HTTP edge picks one). */
export class NameInvalid extends DomainError {}

export class DigestInvalid extends DomainError {}

/** A manifest body that is not a manifest Berth accepts (bad JSON, schema, media type). */
export class ManifestInvalid extends DomainError {}
