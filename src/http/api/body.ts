import type { Request } from 'express';
import type { z } from 'zod';
import { InvalidRequest } from '../../auth/management/errors';
import { ANONYMOUS, type Principal } from '../../auth/principal';

/** A JSON body checked against its schema; anything else is InvalidRequest naming the fields. */
export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const result = schema.safeParse(req.body ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new InvalidRequest(problems.join('; '));
}

/** The caller as the API's authentication resolved them. */
export function actorOf(req: Request): Principal {
  return req.auth?.principal ?? ANONYMOUS;
}

/** A path parameter: `:name` as given, `*name` joined back into its path. */
export function param(req: Request, key: string): string {
  const value = (req.params as Record<string, string | string[] | undefined>)[key];
  if (Array.isArray(value)) return value.join('/');
  if (value === undefined) throw new InvalidRequest(`missing ${key}`);
  return value;
}
