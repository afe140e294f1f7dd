#!/usr/bin/env bash
# Peak memory of a fresh Berth while it takes a 2 GiB blob in one PATCH.
set -uo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO_ROOT/conformance/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-memory.XXXXXX")
trap 'berth_stop; rm -rf "$work"' EXIT
berth_start "$work/data" BERTH_AUTH=none || exit 1
node "$REPO_ROOT/conformance/memory/push-large-blob.mjs" "$BERTH_URL" "$BERTH_PID" "${BLOB_MIB:-2048}" "${RSS_LIMIT_MIB:-250}"
