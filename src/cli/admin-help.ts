/** The admin commands' names and help, apart from their code: `berth serve` and `--help` load none of it. */
export const ADMIN_COMMANDS: ReadonlySet<string> = new Set([
  'user',
  'org',
  'repo',
  'package',
  'token',
  'ci-token',
  'keys',
  'search',
  'immutable-tags',
  'quota',
]);

export const ADMIN_HELP = `Management (on the data directory, also while a server runs):
  berth user add NAME [--password-stdin] [--admin]   without --password-stdin, prints a generated password
  berth user passwd NAME --password-stdin
  berth user delete NAME
  berth org create NAME --owner USER
  berth org member ORG USER --role owner|member|none
  berth repo create OWNER/NAME [--visibility public|private]   (default private)
  berth repo visibility OWNER/NAME public|private
  berth repo collaborator OWNER/NAME USER --role read|write|admin|none
  berth package link PACKAGE OWNER/REPO
  berth package unlink PACKAGE
  berth package visibility PACKAGE public|private
  berth token create --user USER --scopes read:packages[,write:packages,delete:packages]
                     [--expires-days N] [--name NAME]      prints only the token
  berth token list --user USER [--json]
  berth token revoke ID
  berth ci-token create --repo OWNER/NAME [--ttl-minutes 60] [--by USER]   prints only the token
  berth keys rotate | berth keys retire KID | berth keys list [--json]
  berth search reindex        brings the package search index up to date (what a start does too)
  berth immutable-tags add (--org ORG | --package OWNER/NAME) PATTERN [--except GLOB,...]   prints the rule's id
  berth immutable-tags list (--org ORG | --package OWNER/NAME) | berth immutable-tags remove ID
  berth quota show (--org ORG | --user USER) [--json]   bytes used, limits in force, live versions per package
  berth quota set (--org ORG | --user USER) [--bytes N[KiB|MiB|GiB|TiB]] [--versions N]   an omitted limit takes
                     the default (BERTH_QUOTA_BYTES, BERTH_QUOTA_VERSIONS_PER_PACKAGE); neither: the defaults again
  berth quota verify (--org ORG | --user USER)   the usage counter against a recount from the links (exit 1: differ)

Image archives and promotion (on the data directory or the configured database and storage, also while a server runs):
  berth import FILE OWNER/NAME[:TAG]     docker save output or an OCI layout tar (gzipped or not); prints JSON
  berth export OWNER/NAME:TAG|@DIGEST FILE [--format oci-archive|docker-archive] [--platform OS/ARCH]
  berth promote OWNER/NAME:TAG|@DIGEST OWNER/NAME:TAG [--referrers]   blobs mounted, not copied; prints JSON
  berth promote OWNER/NAME:TAG|@DIGEST https://HOST/PATH:TAG [--referrers] [--username USER --password-stdin]
                              to another registry: blobs it lacks are streamed to it, the tag set last

Garbage collection (also while servers run; one collector at a time):
  berth gc [--dry-run] [--grace-seconds N] [--reconcile]   deletes unreferenced blobs and versions past their
                     restore window; --reconcile also walks storage for orphans; last line JSON {objects,bytes,seconds}

Retention (also while servers run; one run at a time; policies through the API, README "Retention policies"):
  berth retention [--dry-run] [--owner OWNER | --package OWNER/NAME]   deletes (soft, restorable) what the policies
                     no longer keep, one line per version with why; last line JSON {dry_run,packages,deleted,kept,failed,seconds}
`;

export const TRANSFER_COMMANDS: ReadonlySet<string> = new Set(['import', 'export', 'promote']);
