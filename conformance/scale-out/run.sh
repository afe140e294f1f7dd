#!/usr/bin/env bash
# The live conformance with Berth scaled out: upload sessions in Redis, blobs on a
# real S3 server (versitygw), both started here on free loopback ports
# (conformance/services.sh). Runs the official OCI suite and the real clients
# (skopeo, podman/buildah, docker) against that Berth, checks the data went where
# it should and that a 2 GiB push keeps memory flat, runs three replicas through a
# kill -9 mid-upload and a PostgreSQL restart and freeze (replicas.sh), and stops
# everything on exit, failure included.
#
#   conformance/scale-out/run.sh          (S3_REDIRECT=true to serve blob GETs by 307)
set -uo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO_ROOT/conformance/lib.sh"
. "$REPO_ROOT/conformance/services.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-scale-out.XXXXXX")
cleanup() { berth_stop; s3_stop; redis_stop; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM


redis_start || { echo "cannot start redis-server"; exit 1; }
s3_start || { echo "cannot start the S3 server"; exit 1; }
# Open mode (BERTH_AUTH=none), like the core's registry-API runs: this run is about where state lives.
berth_start "$work/data" BERTH_AUTH=none REDIS_URL="$REDIS_URL" S3_BUCKET="$S3_BUCKET" S3_ENDPOINT="$S3_ENDPOINT" \
  S3_REGION="$S3_REGION" S3_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID" S3_SECRET_ACCESS_KEY="$S3_SECRET_ACCESS_KEY" \
  S3_FORCE_PATH_STYLE=true S3_REDIRECT="${S3_REDIRECT:-false}" || exit 1
echo "Berth under test: $BERTH_URL (pid $BERTH_PID), sessions in $REDIS_URL, blobs in $S3_ENDPOINT/$S3_BUCKET"

part "official OCI conformance suites (current generation; v1.1.1 where ../shared has it), Redis + S3" bash "$REPO_ROOT/conformance/official/run.sh" scale-out "$BERTH_URL"
part "real clients: skopeo, podman, docker (Redis + S3)" bash "$REPO_ROOT/conformance/clients-core/run.sh" "$BERTH_HOSTPORT"

# The configuration really was the scaled-out one: blobs in the bucket, none on local disk,
# and Redis holding the upload sessions.
where_data_went() {
  local in_s3 on_disk
  in_s3=$(find "$S3_DIR/root/$S3_BUCKET/blobs" -type f 2>/dev/null | wc -l)
  on_disk=$(find "$work/data" -path '*/storage/*' -type f 2>/dev/null | wc -l)
  echo "blobs in S3: $in_s3, blob files under the data directory: $on_disk"
  [ "$in_s3" -gt 0 ] && [ "$on_disk" -eq 0 ] || return 1
  # Sessions are deleted once committed; Redis's own counters show they were kept there.
  redis-cli -u "$REDIS_URL" info commandstats | grep -q '^cmdstat_eval:calls=[1-9]' || { echo "Redis saw no session scripts"; return 1; }
}
part "blobs stored in S3, sessions in Redis" where_data_went
# Flat memory with S3 too: one part buffer per upload, whatever the blob's size.
part "${BLOB_MIB:-2048} MiB blob in one PATCH to S3: peak RSS under ${RSS_LIMIT_MIB:-250} MiB" \
  node "$REPO_ROOT/conformance/memory/push-large-blob.mjs" "$BERTH_URL" "$BERTH_PID" "${BLOB_MIB:-2048}" "${RSS_LIMIT_MIB:-250}"
# Three replicas of their own on the same Redis and bucket (their own Redis database and key prefix),
# three more on PostgreSQL with a data directory each (nothing shared on disk; PostgreSQL restarted and
# frozen under them), then three on one embedded data directory: an upload round-robin across them survives a kill -9.
part "three replicas: chunked upload round-robin, one killed mid-PATCH and restarted; PostgreSQL restarted and frozen; nothing left behind" \
  bash "$REPO_ROOT/conformance/scale-out/replicas.sh"

if ! kill -0 "$BERTH_PID" 2>/dev/null; then
  echo "Berth died during the run; its log:"; tail -n 50 "$work/data/berth.log"; failed=$((failed + 1))
fi
# Every `part` above, counted: one more or one fewer part means this number changes with it.
parts_summary "scale-out conformance" 5
