import { InvalidRequest } from './errors';

/**
 * Account (user and organisation) names are the first component of package
 * names, and repository names follow the same grammar, so every name a
 * link can point at is also a valid OCI path component.
 */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
export const MAX_ACCOUNT_NAME = 64;
export const MAX_REPOSITORY_NAME = 100;

export function assertAccountName(name: string): void {
  if (name.length > MAX_ACCOUNT_NAME || !COMPONENT.test(name)) {
    throw new InvalidRequest(
      `invalid name "${name}": lowercase letters and digits, separated by ".", "_", "__" or "-", at most ${MAX_ACCOUNT_NAME} characters`,
    );
  }
}

export function assertRepositoryName(name: string): void {
  if (name.length > MAX_REPOSITORY_NAME || !COMPONENT.test(name)) {
    throw new InvalidRequest(
      `invalid repository name "${name}": lowercase letters and digits, separated by ".", "_", "__" or "-", at most ${MAX_REPOSITORY_NAME} characters`,
    );
  }
}

/** `OWNER/NAME` → its parts; anything else is invalid input. */
export function parseRepositoryPath(path: string): { owner: string; name: string } {
  const parts = path.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new InvalidRequest(`expected OWNER/NAME, got "${path}"`);
  return { owner: parts[0], name: parts[1] };
}

export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 1024;

export function assertPassword(password: string): void {
  if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw new InvalidRequest(`a password must have ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`);
  }
}
