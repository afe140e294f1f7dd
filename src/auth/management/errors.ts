import { RegistryError } from '../../oci/errors';

/**
 * The management layer's refusals, as the registry's error codes so one
 * renderer answers them: who may not (DENIED), what is not there or not
 * visible (NAME_UNKNOWN), what already exists or must stay (CONFLICT), and
 * malformed input (REQUEST_INVALID).
 */
export function denied(detail: string): RegistryError {
  return new RegistryError('DENIED', detail);
}

export function unknownName(detail: string): RegistryError {
  return new RegistryError('NAME_UNKNOWN', detail);
}

export function conflict(detail: string): RegistryError {
  return new RegistryError('CONFLICT', detail);
}

export function invalid(detail: string): RegistryError {
  return new RegistryError('REQUEST_INVALID', detail);
}

export function signInRequired(detail = 'sign in first'): RegistryError {
  return new RegistryError('UNAUTHORIZED', detail);
}
