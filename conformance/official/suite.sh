# Sourced by conformance/official/run.sh: the pinned current-generation OCI conformance suite
# (github.com/opencontainers/distribution-spec/conformance, a `main` package since its rewrite)
# and its build. Built once per machine with the Go toolchain from the Go module proxy into
# $BERTH_BIN_CACHE/oci-conformance-<version>/oci-conformance (default ~/.cache/berth/bin, like the
# pinned client tools in conformance/clients/tools.sh), so only the first run builds anything.
# The module has no `replace` lines in its go.mod at this version, so building it by version gives
# exactly what upstream published; its go.sum pins its four dependencies.
BERTH_BIN_CACHE=${BERTH_BIN_CACHE:-$HOME/.cache/berth/bin}
OCI_SUITE_MODULE=github.com/opencontainers/distribution-spec/conformance
# The proxy serves only pseudo-versions of this module; this one is the rewrite with the data cases
# (nested indexes, sha512 content, `data` fields, non-distributable layers, custom fields, empty blobs).
OCI_SUITE_VERSION=v0.0.0-20260831232431-97274622c111

# official_suite_path: where the cached binary lives (whether or not it is built yet).
official_suite_path() { echo "$BERTH_BIN_CACHE/oci-conformance-$OCI_SUITE_VERSION/oci-conformance"; }

# official_suite_build: builds the suite unless cached; progress on stderr. The build happens in a
# throwaway module (`go get MODULE@VERSION` + `go build`), as the suite's README says to build it;
# `go test -c` also works but makes the binary print a deprecation warning.
official_suite_build() {
  local bin dir tmp start rc
  bin=$(official_suite_path); dir=$(dirname "$bin")
  [ -x "$bin" ] && return 0
  command -v go >/dev/null 2>&1 || { echo "go is needed to build the official OCI conformance suite" >&2; return 1; }
  mkdir -p "$BERTH_BIN_CACHE" || return 1
  tmp=$(mktemp -d "$BERTH_BIN_CACHE/.build-oci-conformance.XXXXXX") || return 1
  echo "# building $OCI_SUITE_MODULE@$OCI_SUITE_VERSION (first run on this machine only)" >&2
  start=$(date +%s)
  # Bounded: a stuck download must not hang the run (GOFLAGS keeps whatever the caller set).
  # -X main.Version: the report names the suite's version (a module build carries no VCS stamp).
  (cd "$tmp" && mkdir mod && cd mod && go mod init berth.local/oci-conformance >/dev/null 2>&1 &&
    GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw" timeout -k 10 600 go get "$OCI_SUITE_MODULE@$OCI_SUITE_VERSION" &&
    GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw -mod=mod" timeout -k 10 "${TOOL_BUILD_TIMEOUT:-1500}" \
      go build -ldflags "-X main.Version=$OCI_SUITE_VERSION" -o "$tmp/oci-conformance" "$OCI_SUITE_MODULE") >&2
  rc=$?
  rm -rf "$tmp/mod"
  if [ $rc -ne 0 ] || [ ! -x "$tmp/oci-conformance" ]; then
    rm -rf "$tmp"; echo "# building the official OCI conformance suite failed (exit $rc)" >&2; return 1
  fi
  echo $(( $(date +%s) - start )) >"$tmp/build-seconds"
  chmod 755 "$tmp" && rm -rf "$dir" && mv "$tmp" "$dir" || return 1
  echo "# built the official OCI conformance suite $OCI_SUITE_VERSION in $(cat "$dir/build-seconds")s" >&2
}
