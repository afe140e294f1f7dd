/** A row could not be written because another already holds its unique name (two writers raced, or the name was taken). */
export class NameTakenError extends Error {
  constructor(readonly what: string) {
    super(`${what} is taken`);
    this.name = 'NameTakenError';
  }
}

/**
 * Runs a write, turning a unique-constraint violation of either database
 * into NameTakenError(`what`): SQLite (better-sqlite3) reports
 * SQLITE_CONSTRAINT_UNIQUE or SQLITE_CONSTRAINT_PRIMARYKEY, PostgreSQL
 * SQLSTATE 23505 (unique_violation).
 */
export async function uniqueName<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) throw new NameTakenError(what);
    throw err;
  }
}

const UNIQUE_VIOLATIONS = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' && UNIQUE_VIOLATIONS.has(err.code);
}
