#!/usr/bin/env bash
# make bench-growth: cost as the registry grows (issue #18), on SQLite and on a PostgreSQL this script
# starts (conformance/services.sh pg_start) and stops on exit, failure included. growth.mjs starts and
# stops its own Berth servers by PID. Needs `npm run build` first (the Makefile target does it).
# Not part of `make test`: about 30-40 min on a 2-core machine (README: bench-growth).
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../services.sh
source "$REPO_ROOT/conformance/services.sh"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pg_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM
databases=${GROWTH_DATABASES:-sqlite,postgres}
if [[ ,$databases, == *,postgres,* ]]; then pg_start; fi
GROWTH_DATABASES=$databases node "$REPO_ROOT/conformance/bench/growth.mjs" &
pid=$!
wait "$pid"
