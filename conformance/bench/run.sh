#!/usr/bin/env bash
# make bench: install what is missing (Debian docker-registry = Distribution 2.8.2, Distribution 3 via
# go install, Debian wrk), then run bench.mjs, which starts each server in turn on a free loopback port,
# runs the identical workload, stops it, and prints the table (also written to results/latest.md).
# Needs `npm run build` first (the Makefile target does it). Not part of `make test`.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
paths=$(bash "$REPO_ROOT/conformance/bench/install.sh")
export D2=${D2:-$(sed -n 's/^D2=//p' <<<"$paths")}
export D3=${D3:-$(sed -n 's/^D3=//p' <<<"$paths")}
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk with apt" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >&2; }
fi
if ! command -v hey >/dev/null 2>&1; then
  echo "bench: installing hey with apt" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q hey >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q hey >&2; }
fi
command -v curl >/dev/null 2>&1 || { echo "bench: curl is needed" >&2; exit 1; }
pid=
# Stops what this script started, by PID: bench.mjs (which kills its servers on exit), then PostgreSQL.
stop_all() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "${PG_PID:-}" ]; then pg_stop; fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM
# Berth on PostgreSQL (berth-pg, in the default server list) needs a PostgreSQL: one of our own, unless
# BENCH_DATABASE_URL names one. bench.mjs creates a fresh database on it for each server start.
if [[ ",${BENCH_SERVERS:-berth-pg}," == *,berth-pg,* && -z "${BENCH_DATABASE_URL:-}" ]]; then
  # shellcheck source=../services.sh
  source "$REPO_ROOT/conformance/services.sh"
  pg_start
  export BENCH_DATABASE_URL=$DATABASE_URL
  unset DATABASE_URL
fi
node "$REPO_ROOT/conformance/bench/bench.mjs" &
pid=$!
status=0
wait "$pid" || status=$?
pid=
# What webhooks cost a push (issue #16): hooks on and off in interleaved blocks on one Berth.
if [ "${BENCH_WEBHOOKS:-1}" = 1 ]; then
  node "$REPO_ROOT/conformance/bench/webhook-overhead.mjs" &
  pid=$!
  wait "$pid" || status=$?
  pid=
fi
# What online garbage collection costs (issue #22): 100k blobs, 10% garbage, pushes while it runs.
if [ "${BENCH_GC:-1}" = 1 ]; then
  node "$REPO_ROOT/conformance/bench/gc.mjs" &
  pid=$!
  wait "$pid" || status=$?
  pid=
fi
# Search at the index level (issue #17): 100k packages on SQLite and, when the bench has one, PostgreSQL.
if [ "${BENCH_SEARCH:-1}" = 1 ]; then
  DATABASE_URL=${BENCH_DATABASE_URL:-} node "$REPO_ROOT/conformance/bench/search-index.mjs" &
  pid=$!
  wait "$pid" || status=$?
  pid=
fi
# Web pages (issue #17): a package with 1,000 versions, each page's p99 and size.
if [ "${BENCH_WEB:-1}" = 1 ]; then
  node "$REPO_ROOT/conformance/bench/web-pages.mjs" &
  pid=$!
  wait "$pid" || status=$?
  pid=
fi
exit "$status"
