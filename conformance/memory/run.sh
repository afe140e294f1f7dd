#!/usr/bin/env bash
# Peak memory of a fresh Berth while it takes a 2 GiB blob in one PATCH, then of another fresh Berth while it
# imports a 2 GiB image archive (issue #21): VmHWM is a lifetime peak, so each measurement has its own server.
set -uo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO_ROOT/conformance/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-memory.XXXXXX")
trap 'berth_stop; rm -rf "$work"' EXIT
status=0
berth_start "$work/data" BERTH_AUTH=none || exit 1
node "$REPO_ROOT/conformance/memory/push-large-blob.mjs" "$BERTH_URL" "$BERTH_PID" "${BLOB_MIB:-2048}" "${RSS_LIMIT_MIB:-250}" || status=1
berth_stop
berth_start "$work/import" BERTH_AUTH=none || exit 1
node "$REPO_ROOT/conformance/memory/import-large-archive.mjs" "$BERTH_URL" "$BERTH_PID" "${BLOB_MIB:-2048}" "${RSS_LIMIT_MIB:-250}" || status=1
exit "$status"
