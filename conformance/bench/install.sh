#!/usr/bin/env bash
# Installs what `make bench` compares against, only if absent:
#  - Debian's docker-registry (CNCF Distribution 2.8.2) via apt;
#  - CNCF Distribution 3 built with `go install` into ~/.cache/berth/bin/distribution-$DIST3_VERSION
#    (v3's go.mod has no `replace` lines, so it installs by version; the first build takes minutes).
# Prints the paths of both binaries on its last two lines: D2=PATH and D3=PATH.
set -euo pipefail
DIST3_VERSION=${DIST3_VERSION:-v3.0.0}
cache=${BERTH_CACHE:-$HOME/.cache/berth}/bin/distribution-$DIST3_VERSION

if ! command -v docker-registry >/dev/null 2>&1; then
  echo "bench: installing docker-registry (Distribution 2.8.2) with apt" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-registry >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-registry >&2; }
fi

if [ ! -x "$cache/registry" ]; then
  command -v go >/dev/null 2>&1 || { echo "bench: Go is needed to build Distribution 3 (go install)" >&2; exit 1; }
  echo "bench: building Distribution $DIST3_VERSION with go install (first time only; takes minutes)" >&2
  mkdir -p "$cache"
  started=$(date +%s)
  (cd "${TMPDIR:-/tmp}" && GOBIN="$cache" GOFLAGS=-modcacherw \
    go install "github.com/distribution/distribution/v3/cmd/registry@$DIST3_VERSION") >&2
  echo "bench: Distribution $DIST3_VERSION built in $(( $(date +%s) - started )) s" >&2
fi

echo "D2=$(command -v docker-registry)"
echo "D3=$cache/registry"
