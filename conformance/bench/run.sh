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
command -v curl >/dev/null 2>&1 || { echo "bench: curl is needed" >&2; exit 1; }
# bench.mjs kills the servers it started (by PID) on exit; this trap stops it if we are interrupted.
node "$REPO_ROOT/conformance/bench/bench.mjs" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' INT TERM
wait $pid
