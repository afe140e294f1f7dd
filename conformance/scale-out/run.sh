#!/usr/bin/env bash
# The live conformance with Berth scaled out: every store in PostgreSQL, upload sessions
# in Redis, blobs on a real S3 server (versitygw), all three started here on free loopback
# ports (conformance/services.sh). Runs the official OCI suite, the real clients
# (skopeo, podman/buildah, docker) and Berth's end-to-end checks against that Berth in open mode, then
# the official suite, the authenticated clients (clients-auth: users, tokens, packages in PostgreSQL)
# and the ecosystem's clients (clients/: crane, oras, helm, cosign…) against one in token auth mode; checks the data went where it should and that a 2 GiB push keeps
# memory flat, runs three replicas through a kill -9 mid-upload and a PostgreSQL restart and
# freeze (replicas.sh), and stops everything on exit, failure included.
#
#   conformance/scale-out/run.sh          (S3_REDIRECT=true to serve blob GETs by 307; KEEP_WORK=1 keeps
#                                          the work directory, the Berths' logs included)
set -uo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO_ROOT/conformance/lib.sh"
. "$REPO_ROOT/conformance/services.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-scale-out.XXXXXX")
cleanup() { berth_stop; pg_stop; s3_stop; redis_stop; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM


redis_start || { echo "cannot start redis-server"; exit 1; }
s3_start || { echo "cannot start the S3 server"; exit 1; }
pg_start || { echo "cannot start PostgreSQL"; exit 1; }
# This run's PostgreSQL is for its own Berths only: replicas.sh's SQLite and embedded variants
# must not inherit it (its PostgreSQL variant starts a server of its own).
export -n DATABASE_URL
open_db=$DATABASE_URL
psql_at() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
# The token-auth Berth gets a database of its own, as conformance/run.sh gives it a data directory of its own.
auth_db=${DATABASE_URL%/*}/berth_auth
psql_at "$open_db" 'CREATE DATABASE berth_auth' || { echo "cannot create the token-auth database"; exit 1; }
s3_env=(S3_BUCKET="$S3_BUCKET" S3_ENDPOINT="$S3_ENDPOINT" S3_REGION="$S3_REGION" S3_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID"
  S3_SECRET_ACCESS_KEY="$S3_SECRET_ACCESS_KEY" S3_FORCE_PATH_STYLE=true S3_REDIRECT="${S3_REDIRECT:-false}")

# still_alive DATA: a Berth that died under the parts fails the run, whatever the parts said.
still_alive() {
  kill -0 "$BERTH_PID" 2>/dev/null && return 0
  echo "Berth died during the run; its log:"; tail -n 50 "$1/berth.log"; failed=$((failed + 1))
}

# Open mode (BERTH_AUTH=none), like the core's registry-API runs: this run is about where state lives.
berth_start "$work/data" BERTH_AUTH=none BERTH_SPARSE_MANIFESTS='conformance/*' DATABASE_URL="$open_db" REDIS_URL="$REDIS_URL" "${s3_env[@]}" || exit 1
echo "Berth under test: $BERTH_URL (pid $BERTH_PID), stores in $open_db, sessions in $REDIS_URL, blobs in $S3_ENDPOINT/$S3_BUCKET"

part "official OCI conformance suites (current generation, and with every optional feature; v1.1.1 where ../shared has it), PostgreSQL + Redis + S3" \
  env OCI_OPTIONAL_FEATURES=1 bash "$REPO_ROOT/conformance/official/run.sh" scale-out "$BERTH_URL"
part "real clients: skopeo, podman, docker (PostgreSQL + Redis + S3)" bash "$REPO_ROOT/conformance/clients-core/run.sh" "$BERTH_HOSTPORT"

# The configuration really was the scaled-out one: the index in PostgreSQL, blobs in the bucket,
# Redis holding the upload sessions, and under BERTH_DATA only the log (no SQLite file).
where_data_went() {
  local in_s3 index
  in_s3=$(find "$S3_DIR/root/$S3_BUCKET/blobs" -type f 2>/dev/null | wc -l)
  index=$(psql_at "$open_db" 'SELECT (SELECT count(*) FROM manifests) || $$ $$ || (SELECT count(*) FROM tags)') || return 1
  echo "blobs in S3: $in_s3; in PostgreSQL: manifests, tags = $index"
  [ "$in_s3" -gt 0 ] && [[ $index =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]] || return 1
  only_logs_under "$work/data" || return 1
  # Sessions are deleted once committed; Redis's own counters show they were kept there.
  redis-cli -u "$REDIS_URL" info commandstats | grep -q '^cmdstat_eval:calls=[1-9]' || { echo "Redis saw no session scripts"; return 1; }
}
part "index in PostgreSQL, blobs in S3, sessions in Redis, only the log under BERTH_DATA" where_data_went
# The checks that need a Berth of their own (kill -9 and restart, shutdown) spawn one on the embedded default, as
# in conformance/run.sh: a killed replica's upload lock in Redis only expires (replicas.sh covers that layout).
part "Berth end-to-end checks (PostgreSQL + Redis + S3)" \
  env -u REDIS_URL -u S3_BUCKET -u S3_ENDPOINT -u S3_REGION -u S3_ACCESS_KEY_ID -u S3_SECRET_ACCESS_KEY -u S3_FORCE_PATH_STYLE \
  BERTH_E2E_URL="$BERTH_URL" npx --no-install jest -c "$REPO_ROOT/conformance/e2e/jest.config.js"
still_alive "$work/data"
berth_stop

# Flat memory with S3 too: one part buffer per upload, whatever the blob's size. On a fresh Berth of the same
# configuration, as conformance/memory/run.sh has its own: VmHWM is a process's peak over its whole life, and
# after the suites above the largest worker's was 238-252 MiB in CI runs before the 2 GiB push began.
berth_start "$work/memory" BERTH_AUTH=none DATABASE_URL="$open_db" REDIS_URL="$REDIS_URL" "${s3_env[@]}" || exit 1
part "${BLOB_MIB:-2048} MiB blob in one PATCH to S3, on a fresh Berth: peak RSS under ${RSS_LIMIT_MIB:-250} MiB" \
  node "$REPO_ROOT/conformance/memory/push-large-blob.mjs" "$BERTH_URL" "$BERTH_PID" "${BLOB_MIB:-2048}" "${RSS_LIMIT_MIB:-250}"
still_alive "$work/memory"
berth_stop

# Token auth (the default): users, tokens, source repositories and packages in PostgreSQL too. A
# fresh Berth, as conformance/run.sh's: a database, a Redis database and an S3 prefix of its own.
admin_password=conformance-$RANDOM$RANDOM
printf '{"s3":{"prefix":"auth/"}}\n' >"$work/auth.json"
berth_start "$work/auth" BERTH_ADMIN_PASSWORD="$admin_password" BERTH_CONFIG="$work/auth.json" DATABASE_URL="$auth_db" \
  REDIS_URL="${REDIS_URL%/}/1" BERTH_WEBHOOK_ALLOWED_HOSTS=127.0.0.1 BERTH_PROMOTION_ALLOWED_HOSTS=127.0.0.1 "${s3_env[@]}" || exit 1
echo "Berth (token auth) under test: $BERTH_URL (pid $BERTH_PID), stores in $auth_db"
part "official OCI conformance suites, token auth (admin credentials), PostgreSQL + Redis + S3" \
  env OCI_USERNAME=admin OCI_PASSWORD="$admin_password" bash "$REPO_ROOT/conformance/official/run.sh" token "$BERTH_URL"
# The same script as conformance/run.sh's; its berth CLI makes the fixtures in PostgreSQL through DATABASE_URL.
part "real clients through token auth (docker login, skopeo, podman; official suite as a non-admin user), PostgreSQL + Redis + S3" \
  env DATABASE_URL="$auth_db" bash "$REPO_ROOT/conformance/clients-auth/run.sh" "$BERTH_HOSTPORT" "$admin_password" "$work/auth"
part "ecosystem clients through token auth (crane, regctl, oras, notation, helm, cosign, dev container CLI), PostgreSQL + Redis + S3" \
  env DATABASE_URL="$auth_db" bash "$REPO_ROOT/conformance/clients/run.sh" "$BERTH_HOSTPORT" "$admin_password" "$work/auth"

# What clients-auth made (users, an org and its member, a source repository, a PAT and a CI token,
# packages, tags) is in PostgreSQL, and nothing of it under BERTH_DATA.
identities_in_postgres() {
  local counts
  counts=$(psql_at "$auth_db" "SELECT 'accounts=' || (SELECT count(*) FROM accounts)
    || ' org_members=' || (SELECT count(*) FROM org_members)
    || ' source_repositories=' || (SELECT count(*) FROM source_repositories)
    || ' pat=' || (SELECT count(*) FROM access_tokens WHERE kind = 'pat')
    || ' ci=' || (SELECT count(*) FROM access_tokens WHERE kind = 'ci')
    || ' packages=' || (SELECT count(*) FROM packages)
    || ' tags=' || (SELECT count(*) FROM tags)") || return 1
  echo "in PostgreSQL: $counts"
  [[ ! $counts =~ =0( |$) ]] || return 1
  only_logs_under "$work/auth"
}
part "users, tokens, repositories, packages and tags in PostgreSQL, only the log under BERTH_DATA" identities_in_postgres

# Three replicas of their own on the same Redis and bucket (their own Redis database and key prefix),
# three more on PostgreSQL with a data directory each (nothing shared on disk; PostgreSQL restarted and
# frozen under them), then three on one embedded data directory: an upload round-robin across them survives a kill -9.
part "three replicas: chunked upload round-robin, one killed mid-PATCH and restarted; PostgreSQL restarted and frozen; nothing left behind" \
  bash "$REPO_ROOT/conformance/scale-out/replicas.sh"

still_alive "$work/auth"
# Every `part` above, counted: one more or one fewer part means this number changes with it.
parts_summary "scale-out conformance" 10
