# Sourced by conformance/clients/*.sh: pinned client versions and their installation.
# Go tools are built once per machine with `go install MODULE@VERSION` into
# $BERTH_BIN_CACHE/<tool>-<version>/ (default ~/.cache/berth/bin), so a second run builds nothing.
# None of these modules has `replace` lines in its go.mod (checked for each pinned version), so
# building by version gives exactly what upstream released. Tools marked `scratch` are built inside a
# throwaway module (`go get MODULE@VERSION` + `go build`) instead of `go install MODULE@VERSION`:
# notation, because the Go module proxy reachable here answers 403 to its version list, which
# `go install pkg@version` reads (for the deprecation notice) and `go get` of an exact version does not.
BERTH_BIN_CACHE=${BERTH_BIN_CACHE:-$HOME/.cache/berth/bin}

# tool  package-of-the-command  version  how   (fastest build first)
CLIENT_TOOLS="
crane    github.com/google/go-containerregistry/cmd/crane  v0.22.1  install
regctl   github.com/regclient/regclient/cmd/regctl          v0.11.7  install
oras     oras.land/oras/cmd/oras                            v1.3.6   install
notation github.com/notaryproject/notation/cmd/notation     v1.3.2   scratch github.com/notaryproject/notation
helm     helm.sh/helm/v3/cmd/helm                           v3.22.0  install
cosign   github.com/sigstore/cosign/v2/cmd/cosign           v2.6.5   install
"
DEVCONTAINERS_CLI_VERSION=0.89.0

tool_version() { awk -v t="$1" '$1 == t {print $3}' <<<"$CLIENT_TOOLS"; }
tool_module()  { awk -v t="$1" '$1 == t {print $2}' <<<"$CLIENT_TOOLS"; }
# tool_path TOOL: where the cached binary lives (whether or not it is built yet).
tool_path() { echo "$BERTH_BIN_CACHE/$1-$(tool_version "$1")/$1"; }

# tool_install TOOL: builds TOOL unless cached; prints the build time on stderr and records it
# next to the binary (build-seconds) so that reports can quote the first build on this machine.
tool_install() {
  local t=$1 mod ver dir tmp start rc
  mod=$(tool_module "$t"); ver=$(tool_version "$t")
  [ -n "$mod" ] || { echo "unknown tool $t" >&2; return 1; }
  dir=$BERTH_BIN_CACHE/$t-$ver
  [ -x "$dir/$t" ] && return 0
  command -v go >/dev/null 2>&1 || { echo "go is needed to build $t" >&2; return 1; }
  mkdir -p "$BERTH_BIN_CACHE"
  tmp=$(mktemp -d "$BERTH_BIN_CACHE/.build-$t.XXXXXX") || return 1
  echo "# building $mod@$ver (first run on this machine only)" >&2
  start=$(date +%s)
  # Bounded: a stuck download must not hang the run (GOFLAGS keeps whatever the caller set).
  local how modroot
  how=$(awk -v t="$t" '$1 == t {print $4}' <<<"$CLIENT_TOOLS"); modroot=$(awk -v t="$t" '$1 == t {print $5}' <<<"$CLIENT_TOOLS")
  if [ "$how" = scratch ]; then
    (cd "$tmp" && mkdir mod && cd mod && go mod init berth.local/tools-"$t" >/dev/null 2>&1 &&
      GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw" timeout -k 10 600 go get "$modroot@$ver" &&
      GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw -mod=mod" timeout -k 10 "${TOOL_BUILD_TIMEOUT:-1500}" \
        go build -o "$tmp/$t" "$mod") >&2
    rc=$?
    rm -rf "$tmp/mod"
  else
    GOBIN=$tmp GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw" timeout -k 10 "${TOOL_BUILD_TIMEOUT:-1500}" \
      go install "$mod@$ver" >&2
    rc=$?
  fi
  if [ $rc -ne 0 ] || [ ! -x "$tmp/$t" ]; then rm -rf "$tmp"; echo "# building $t failed (exit $rc)" >&2; return 1; fi
  echo $(( $(date +%s) - start )) >"$tmp/build-seconds"
  chmod 755 "$tmp" && rm -rf "$dir" && mv "$tmp" "$dir" || return 1
  echo "# built $t $ver in $(cat "$dir/build-seconds")s" >&2
}
