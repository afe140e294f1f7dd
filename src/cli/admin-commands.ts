import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Authenticator } from '../auth/authenticator';
import { Authorizer } from '../auth/authorizer';
import { DEFAULT_CI_TOKEN_TTL_MINUTES, IdentityService, SYSTEM } from '../auth/identity-service';
import type { SigningKeyStore } from '../auth/stores/signing-key-store';
import type { Visibility } from '../auth/stores/source-repository-store';
import { parseRepositoryPath } from '../auth/management/names';
import { SigningKeys } from '../auth/signing-keys';
import { IDENTITY_MIGRATIONS } from '../auth/sql/identity-migrations';
import { sqlIdentityStores } from '../auth/sql/sql-identity-stores';
import { ConfigError, loadConfig, type Config } from '../config';
import type { IdentityStores } from '../auth/stores/identity-stores';
import { connectDatabase } from '../persistence/connect-database';
import type { Database as StoreDatabase } from '../persistence/database';
import { migrate } from '../persistence/migration-runner';
import { DomainError } from '../domain-error';
import { InvalidRequest, SigningKeyNotFound, StillNeeded } from '../auth/management/errors';
import { ImmutableTagPolicy } from '../immutability/immutable-tag-policy';
import { ImmutableTagService, type RuleTarget } from '../immutability/immutable-tag-service';
import { SqlImmutableTagRuleStore } from '../immutability/sql/sql-immutable-tag-rule-store';
import { IMMUTABILITY_MIGRATIONS } from '../immutability/sql/immutability-migrations';
import type { AccountKind } from '../auth/stores/account-store';
import { QUOTA_MIGRATIONS } from '../quotas/sql/quota-migrations';
import { SqlQuotaLimitStore } from '../quotas/sql/sql-quota-limit-store';
import { QuotaPolicy } from '../quotas/quota-policy';
import { QuotaService } from '../quotas/quota-service';
import { quotaReportJson } from '../quotas/quota-report-json';
import { quotaReportText } from '../quotas/quota-report-text';

/** What a command reads and writes, so tests can run commands without a process. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
}

export { ADMIN_COMMANDS, ADMIN_HELP } from './admin-help';

/** Wrong arguments: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

interface Command {
  usage: string;
  positionals: number;
  options?: OptionSpec;
  /** An exit code other than 0 for a command that ran but found something wrong; nothing: 0. */
  run(ctx: Context, args: string[], values: Record<string, string | boolean | undefined>): Promise<void | number>;
}

interface Context {
  service: IdentityService;
  signingKeys: SigningKeyStore;
  io: CliIo;
  config: Config;
  database: StoreDatabase;
  identities: IdentityStores;
}

const VISIBILITIES: readonly Visibility[] = ['public', 'private'];

const COMMANDS: Record<string, Record<string, Command>> = {
  user: {
    add: {
      usage: 'berth user add NAME [--password-stdin] [--admin]',
      positionals: 1,
      options: { 'password-stdin': { type: 'boolean' }, admin: { type: 'boolean' } },
      async run({ service, io }, [name], values) {
        const generated = values['password-stdin'] !== true;
        const password = generated ? randomBytes(18).toString('base64url') : await passwordFromStdin(io);
        await service.accounts.createUser(SYSTEM, { name: arg(name), password, admin: values.admin === true });
        if (generated) {
          io.stdout(`${password}\n`);
          io.stderr(`created user ${arg(name)}; the password above is shown only this once\n`);
        } else io.stdout(`created user ${arg(name)}\n`);
      },
    },
    passwd: {
      usage: 'berth user passwd NAME --password-stdin',
      positionals: 1,
      options: { 'password-stdin': { type: 'boolean' } },
      async run({ service, io }, [name], values) {
        if (values['password-stdin'] !== true) throw new UsageError('the new password is read from stdin: pass --password-stdin');
        await service.accounts.setPassword(SYSTEM, arg(name), await passwordFromStdin(io));
        io.stdout(`changed the password of ${arg(name)}\n`);
      },
    },
    delete: {
      usage: 'berth user delete NAME',
      positionals: 1,
      async run({ service, io }, [name]) {
        await service.accounts.deleteUser(SYSTEM, arg(name));
        io.stdout(`deleted user ${arg(name)}\n`);
      },
    },
  },
  org: {
    create: {
      usage: 'berth org create NAME --owner USER',
      positionals: 1,
      options: { owner: { type: 'string' } },
      async run({ service, io }, [name], values) {
        await service.accounts.createOrg(SYSTEM, arg(name), required(values, 'owner'));
        io.stdout(`created organisation ${arg(name)}, owned by ${required(values, 'owner')}\n`);
      },
    },
    member: {
      usage: 'berth org member ORG USER --role owner|member|none',
      positionals: 2,
      options: { role: { type: 'string' } },
      async run({ service, io }, [org, user], values) {
        const role = oneOf(required(values, 'role'), ['owner', 'member', 'none'] as const, '--role');
        await service.accounts.setMember(SYSTEM, arg(org), arg(user), role === 'none' ? null : role);
        io.stdout(role === 'none' ? `removed ${arg(user)} from ${arg(org)}\n` : `${arg(user)} is now ${role} of ${arg(org)}\n`);
      },
    },
  },
  repo: {
    create: {
      usage: 'berth repo create OWNER/NAME [--visibility public|private]',
      positionals: 1,
      options: { visibility: { type: 'string' } },
      async run({ service, io }, [repo], values) {
        const { owner, name } = repositoryArg(arg(repo));
        const visibility = oneOf(optional(values, 'visibility') ?? 'private', VISIBILITIES, '--visibility');
        await service.repositories.create(SYSTEM, { owner, name, visibility });
        io.stdout(`created ${visibility} repository ${owner}/${name}\n`);
      },
    },
    visibility: {
      usage: 'berth repo visibility OWNER/NAME public|private',
      positionals: 2,
      async run({ service, io }, [repo, visibility]) {
        const { owner, name } = repositoryArg(arg(repo));
        const v = oneOf(arg(visibility), VISIBILITIES, 'the visibility');
        await service.repositories.setVisibility(SYSTEM, owner, name, v);
        io.stdout(`${owner}/${name} is now ${v}\n`);
      },
    },
    collaborator: {
      usage: 'berth repo collaborator OWNER/NAME USER --role read|write|admin|none',
      positionals: 2,
      options: { role: { type: 'string' } },
      async run({ service, io }, [repo, user], values) {
        const { owner, name } = repositoryArg(arg(repo));
        const role = oneOf(required(values, 'role'), ['read', 'write', 'admin', 'none'] as const, '--role');
        await service.repositories.setCollaborator(SYSTEM, owner, name, arg(user), role === 'none' ? null : role);
        io.stdout(role === 'none' ? `removed ${arg(user)} from ${owner}/${name}\n` : `${arg(user)} has ${role} on ${owner}/${name}\n`);
      },
    },
  },
  package: {
    link: {
      usage: 'berth package link PACKAGE OWNER/REPO',
      positionals: 2,
      async run({ service, io }, [pkg, repo]) {
        repositoryArg(arg(repo));
        await service.packages.link(SYSTEM, arg(pkg), arg(repo));
        io.stdout(`linked ${arg(pkg)} to ${arg(repo)}\n`);
      },
    },
    unlink: {
      usage: 'berth package unlink PACKAGE',
      positionals: 1,
      async run({ service, io }, [pkg]) {
        await service.packages.unlink(SYSTEM, arg(pkg));
        io.stdout(`unlinked ${arg(pkg)}\n`);
      },
    },
    visibility: {
      usage: 'berth package visibility PACKAGE public|private',
      positionals: 2,
      async run({ service, io }, [pkg, visibility]) {
        const v = oneOf(arg(visibility), VISIBILITIES, 'the visibility');
        await service.packages.setVisibility(SYSTEM, arg(pkg), v);
        io.stdout(`${arg(pkg)} is now ${v}\n`);
      },
    },
  },
  token: {
    create: {
      usage: 'berth token create --user USER --scopes SCOPE[,SCOPE] [--expires-days N] [--name NAME]',
      positionals: 0,
      options: { user: { type: 'string' }, scopes: { type: 'string' }, 'expires-days': { type: 'string' }, name: { type: 'string' } },
      async run({ service, io }, _args, values) {
        const days = optional(values, 'expires-days');
        const minted = await service.tokens.createPersonal(SYSTEM, required(values, 'user'), {
          scopes: required(values, 'scopes').split(','),
          expiresInDays: days === undefined ? undefined : integer(days, '--expires-days'),
          name: optional(values, 'name'),
        });
        io.stdout(`${minted.token}\n`);
      },
    },
    list: {
      usage: 'berth token list --user USER [--json]',
      positionals: 0,
      options: { user: { type: 'string' }, json: { type: 'boolean' } },
      async run({ service, io }, _args, values) {
        const tokens = await service.tokens.list(SYSTEM, required(values, 'user'));
        if (values.json === true) {
          io.stdout(`${JSON.stringify(tokens, null, 2)}\n`);
          return;
        }
        io.stdout(
          table(
            ['ID', 'KIND', 'NAME', 'SCOPES', 'REPOSITORY', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS'],
            tokens.map((t) => [
              String(t.id),
              t.kind,
              t.name,
              t.scopes.join(','),
              t.repository ?? '-',
              t.createdAt,
              t.expiresAt ?? 'never',
              t.lastUsedAt ?? 'never',
              t.status,
            ]),
          ),
        );
      },
    },
    revoke: {
      usage: 'berth token revoke ID',
      positionals: 1,
      async run({ service, io }, [id]) {
        await service.tokens.revoke(SYSTEM, integer(arg(id), 'ID'));
        io.stdout(`revoked token ${arg(id)}\n`);
      },
    },
  },
  'ci-token': {
    create: {
      usage: 'berth ci-token create --repo OWNER/NAME [--ttl-minutes 60] [--by USER]',
      positionals: 0,
      options: { repo: { type: 'string' }, 'ttl-minutes': { type: 'string' }, by: { type: 'string' } },
      async run({ service, io }, _args, values) {
        const ttl = optional(values, 'ttl-minutes');
        const minted = await service.tokens.createCi(SYSTEM, repositoryArg(required(values, 'repo')), {
          ttlMinutes: ttl === undefined ? undefined : integer(ttl, '--ttl-minutes'),
          by: optional(values, 'by'),
        });
        io.stdout(`${minted.token}\n`);
      },
    },
  },
  'immutable-tags': {
    add: {
      usage: 'berth immutable-tags add (--org ORG | --package OWNER/NAME) PATTERN [--except GLOB,...]',
      positionals: 1,
      options: { org: { type: 'string' }, package: { type: 'string' }, except: { type: 'string' } },
      async run(ctx, [pattern], values) {
        const except = optional(values, 'except');
        const rule = await (
          await immutableTags(ctx)
        ).add(SYSTEM, {
          ...ruleTarget(values),
          pattern: arg(pattern),
          except: except === undefined ? [] : except.split(',').map((g) => g.trim()),
        });
        ctx.io.stdout(`${rule.id}\n`);
        ctx.io.stderr('running servers apply it within 5 seconds\n');
      },
    },
    list: {
      usage: 'berth immutable-tags list (--org ORG | --package OWNER/NAME)',
      positionals: 0,
      options: { org: { type: 'string' }, package: { type: 'string' } },
      async run(ctx, _args, values) {
        for (const rule of await (await immutableTags(ctx)).list(SYSTEM, ruleTarget(values))) {
          const except = rule.except.length > 0 ? ` except ${rule.except.join(',')}` : '';
          ctx.io.stdout(`${rule.id}\t${rule.scope} ${rule.name}\t${rule.pattern}${except}\n`);
        }
      },
    },
    remove: {
      usage: 'berth immutable-tags remove ID',
      positionals: 1,
      async run(ctx, [id]) {
        if (!(await (await immutableTags(ctx)).remove(SYSTEM, integer(arg(id), 'ID')))) throw new InvalidRequest(`no rule ${arg(id)}`);
        ctx.io.stdout(`removed rule ${arg(id)}\n`);
      },
    },
  },
  quota: {
    show: {
      usage: 'berth quota show (--org ORG | --user USER) [--json]',
      positionals: 0,
      options: { org: { type: 'string' }, user: { type: 'string' }, json: { type: 'boolean' } },
      async run(ctx, _args, values) {
        const { kind, name } = quotaOwner(values);
        const report = await (await quotas(ctx)).show(SYSTEM, kind, name);
        ctx.io.stdout(values.json === true ? `${JSON.stringify(quotaReportJson(report))}\n` : quotaReportText(report));
      },
    },
    set: {
      usage: 'berth quota set (--org ORG | --user USER) [--bytes N[KiB|MiB|GiB|TiB]] [--versions N]',
      positionals: 0,
      options: { org: { type: 'string' }, user: { type: 'string' }, bytes: { type: 'string' }, versions: { type: 'string' } },
      async run(ctx, _args, values) {
        const { kind, name } = quotaOwner(values);
        const bytes = optional(values, 'bytes');
        const versions = optional(values, 'versions');
        // An omitted limit takes the default (BERTH_QUOTA_*); neither forgets the owner's own limits.
        const report = await (
          await quotas(ctx)
        ).set(SYSTEM, kind, name, {
          maxBytes: bytes === undefined ? null : byteCount(bytes),
          maxVersionsPerPackage: versions === undefined ? null : integer(versions, '--versions'),
        });
        ctx.io.stdout(quotaReportText(report));
        ctx.io.stderr('running servers apply it within 5 seconds\n');
      },
    },
    verify: {
      usage: 'berth quota verify (--org ORG | --user USER)',
      positionals: 0,
      options: { org: { type: 'string' }, user: { type: 'string' } },
      async run(ctx, _args, values) {
        const { kind, name } = quotaOwner(values);
        const check = await (await quotas(ctx)).verify(SYSTEM, kind, name);
        ctx.io.stdout(`${JSON.stringify(check)}\n`);
        if (check.counted === check.recomputed) return 0;
        // A bug to report: the counter changes in the same transaction as the links it sums.
        ctx.io.stderr(`berth: the usage of ${check.owner} is counted as ${check.counted} bytes, recomputed ${check.recomputed}\n`);
        return 1;
      },
    },
  },
  search: {
    reindex: {
      usage: 'berth search reindex',
      positionals: 0,
      async run({ config, database, identities, io }) {
        // Loaded here only: the other commands need none of the registry.
        const { buildSearch, openBlobStore, STORE_MIGRATIONS } = await import('../composition-root');
        const { SqlMetadataIndex } = await import('../metadata/sql/sql-metadata-index');
        const { SqlDownloadStore } = await import('../downloads/sql/sql-download-store');
        const { createLogger } = await import('../log');
        await migrate(database, STORE_MIGRATIONS);
        const storage = await openBlobStore(config);
        const index = new SqlMetadataIndex(database);
        try {
          const auth = config.auth.mode === 'token' ? { identities } : undefined;
          const search = buildSearch(database, auth, index, storage.store, new SqlDownloadStore(database), createLogger(config.logLevel));
          const done = await search.indexer.reconcile();
          io.stdout(`indexed ${done.indexed} packages, removed ${done.removed}\n`);
        } finally {
          await index.close();
          storage.close();
        }
      },
    },
  },
  keys: {
    rotate: {
      usage: 'berth keys rotate',
      positionals: 0,
      async run({ signingKeys, io }) {
        const kid = await new SigningKeys(signingKeys).rotate();
        io.stdout(`${kid}\n`);
        io.stderr(
          'the new key signs from now on (running servers pick it up within a minute); retire the old one once its tokens have expired\n',
        );
      },
    },
    retire: {
      usage: 'berth keys retire KID',
      positionals: 1,
      async run({ signingKeys, io }, [kid]) {
        const keys = await signingKeys.signingKeys();
        const key = keys.find((k) => k.kid === kid);
        if (!key) throw new SigningKeyNotFound(`no signing key ${arg(kid)}`);
        if (key.retiredAt === null && keys.filter((k) => k.retiredAt === null).length <= 1) {
          throw new StillNeeded(`${arg(kid)} is the only active key; rotate first`);
        }
        await signingKeys.retireSigningKey(arg(kid), Date.now());
        io.stdout(`retired key ${arg(kid)}\n`);
      },
    },
    list: {
      usage: 'berth keys list [--json]',
      positionals: 0,
      options: { json: { type: 'boolean' } },
      async run({ signingKeys, io }, _args, values) {
        const keys = (await signingKeys.signingKeys()).map((k) => ({
          kid: k.kid,
          algorithm: k.algorithm,
          createdAt: new Date(k.createdAt).toISOString(),
          retiredAt: k.retiredAt === null ? null : new Date(k.retiredAt).toISOString(),
        }));
        const signing = [...keys].reverse().find((k) => k.retiredAt === null);
        if (values.json === true) {
          io.stdout(`${JSON.stringify(keys, null, 2)}\n`);
          return;
        }
        io.stdout(
          table(
            ['KID', 'ALGORITHM', 'CREATED', 'STATUS'],
            keys.map((k) => [
              k.kid,
              k.algorithm,
              k.createdAt,
              k.retiredAt ? `retired ${k.retiredAt}` : k === signing ? 'signing' : 'verifying',
            ]),
          ),
        );
      },
    },
  },
};

/**
 * Runs one management command on the data directory named by the
 * configuration (BERTH_DATA / BERTH_CONFIG), as the trusted system actor.
 * Returns the exit code: 0, 1 for a refused operation, 2 for wrong usage.
 */
export async function runAdminCommand(argv: string[], io: CliIo): Promise<number> {
  let database: StoreDatabase | undefined;
  try {
    const [group = '', sub = '', ...rest] = argv;
    const commands = COMMANDS[group];
    if (!commands) throw new UsageError(`unknown command: ${group}`);
    const command = commands[sub];
    if (!command)
      throw new UsageError(
        `usage: ${Object.values(commands)
          .map((c) => c.usage)
          .join('\n       ')}`,
      );
    let parsed;
    try {
      parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: command.options ?? {} });
    } catch (err) {
      throw new UsageError(`${(err as Error).message}\nusage: ${command.usage}`);
    }
    if (parsed.positionals.length !== command.positionals) throw new UsageError(`usage: ${command.usage}`);
    const config = loadConfig(io.env);
    // The server's database (PostgreSQL when DATABASE_URL is set), migrated as at its start, so a command may run first.
    database = await connectDatabase({ url: config.database?.url, sqliteFile: path.join(config.dataDir, 'berth.db') });
    await migrate(database, IDENTITY_MIGRATIONS);
    const identities = sqlIdentityStores(database);
    const authorizer = new Authorizer(identities);
    const service = new IdentityService(identities, authorizer, new Authenticator(identities), {
      ciTokenTtlMinutes: config.auth.ciTokenTtlMinutes ?? DEFAULT_CI_TOKEN_TTL_MINUTES,
    });
    const code = await command.run(
      { service, signingKeys: identities.signingKeys, io, config, database, identities },
      parsed.positionals,
      parsed.values,
    );
    return code ?? 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.stderr(`berth: ${err.message}\n`);
      return 2;
    }
    if (err instanceof DomainError) {
      io.stderr(`berth: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await database?.close();
  }
}

function ruleTarget(values: Record<string, string | boolean | undefined>): RuleTarget {
  const org = optional(values, 'org');
  const pkg = optional(values, 'package');
  if ((org === undefined) === (pkg === undefined)) throw new UsageError('give --org or --package, one of them');
  return org !== undefined ? { scope: 'organisation', name: org } : { scope: 'package', name: pkg as string };
}

/** The immutable-tag rules on the server's database (their table migrated, so a command may run first). */
async function immutableTags({ database, identities }: Context): Promise<ImmutableTagService> {
  await migrate(database, [IMMUTABILITY_MIGRATIONS]);
  const store = new SqlImmutableTagRuleStore(database);
  return new ImmutableTagService(store, identities.accounts, new ImmutableTagPolicy(store));
}

function quotaOwner(values: Record<string, string | boolean | undefined>): { kind: AccountKind; name: string } {
  const org = optional(values, 'org');
  const user = optional(values, 'user');
  if ((org === undefined) === (user === undefined)) throw new UsageError('give --org or --user, one of them');
  return org !== undefined ? { kind: 'org', name: org } : { kind: 'user', name: user as string };
}

/** Quotas on the server's database (the index's and the limits' tables migrated, so a command may run first). */
async function quotas({ config, database, identities }: Context): Promise<QuotaService> {
  const { METADATA_MIGRATIONS } = await import('../metadata/sql/metadata-migrations');
  const { SqlMetadataIndex } = await import('../metadata/sql/sql-metadata-index');
  await migrate(database, [METADATA_MIGRATIONS, QUOTA_MIGRATIONS]);
  const store = new SqlQuotaLimitStore(database);
  const defaults = { maxBytes: config.quotas.bytes, maxVersionsPerPackage: config.quotas.versionsPerPackage };
  return new QuotaService(store, new QuotaPolicy(store, defaults), new SqlMetadataIndex(database), identities.accounts);
}

const BYTE_UNITS: Record<string, number> = { '': 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** `1048576`, `512MiB`, `10GiB`: a whole number of bytes. */
function byteCount(value: string): number {
  const match = /^(\d{1,16})\s*([kmgt]ib)?$/i.exec(value);
  const bytes = match ? Number(match[1]) * (BYTE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1) : NaN;
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`--bytes must be a whole number of bytes (or KiB, MiB, GiB, TiB), not "${value}"`);
  return bytes;
}

function arg(value: string | undefined): string {
  if (value === undefined) throw new UsageError('missing argument');
  return value;
}

function required(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function optional(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${what} must be one of ${allowed.join(', ')}, not "${value}"`);
  return value as T;
}

function integer(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${what} must be a whole number, not "${value}"`);
  return Number(value);
}

function repositoryArg(value: string): { owner: string; name: string } {
  try {
    return parseRepositoryPath(value);
  } catch {
    throw new UsageError(`expected OWNER/NAME, got "${value}"`);
  }
}

/** The password piped in, without the one trailing newline `echo` adds. */
async function passwordFromStdin(io: CliIo): Promise<string> {
  const password = (await io.readStdin()).replace(/\r?\n$/, '');
  if (password === '') throw new UsageError('no password on stdin');
  return password;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
