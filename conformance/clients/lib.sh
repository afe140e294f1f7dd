# Shared by the conformance/clients/*.sh workflows (source it after setting CLIENT_NAME):
# arguments, a scratch dir removed on exit, reporting, assertions and a hand-written test image.
#
# Every workflow takes the same arguments and environment:
#   conformance/clients/TOOL.sh REGISTRY_HOSTPORT USER PASSWORD
#   NS              namespace to push into (default: USER, i.e. the user's own packages)
#   TMPDIR          where the scratch dir goes; KEEP_WORK=1 keeps it (log.txt holds every command's output)
#   CLIENT_TIMEOUT  seconds any one client command may take (default 300)
# It prints `ok - NAME` / `not ok - NAME` per check (diagnostics on `#` lines), ends with exactly
# `N passed, N failed`, and exits 0 only when nothing failed. Loopback registries only.
set -u
set -o pipefail

if [ $# -ne 3 ] || [ -z "$1" ] || [ -z "$2" ] || [ -z "$3" ]; then
  echo "usage: $0 REGISTRY_HOSTPORT USER PASSWORD   (e.g. 127.0.0.1:5000 admin secret)" >&2
  exit 2
fi
REG=$1
REG_USER=$2
REG_PASSWORD=$3
case "$REG" in
  127.*|localhost:*|\[::1\]:*) ;;
  *) echo "refusing a non-loopback registry: $REG" >&2; exit 2 ;;
esac
REG_PORT=${REG##*:}
NS=${NS:-$REG_USER}
CLIENTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$CLIENTS_DIR/tools.sh"

# Scratch dir, cleanup on exit (BG_PIDS, workflow_cleanup, a private dockerd) and reporting.
REPORT_PREFIX="$CLIENT_NAME: "
BG_PIDS=""   # workflows that start background processes add their PIDs here
. "$CLIENTS_DIR/../clients-lib.sh"
clients_workspace "berth-$CLIENT_NAME"

# Each client keeps its configuration (logins, keys, caches) under $WORK/home, never in the real $HOME.
REAL_HOME=$HOME
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_CACHE_HOME=$WORK/home/.cache XDG_DATA_HOME=$WORK/home/.local/share
export DOCKER_CONFIG=$WORK/home/.docker
mkdir -p "$HOME" "$DOCKER_CONFIG" "$XDG_CONFIG_HOME"

same_file() { # same_file WHAT EXPECTED_FILE ACTUAL_FILE
  [ -f "$3" ] || { echo "$1: $3 missing"; return 1; }
  cmp -s "$2" "$3" && return 0
  echo "$1: $3 differs from $2 ($(sha256 <"$2") vs $(sha256 <"$3"))"; return 1
}
T=${CLIENT_TIMEOUT:-300}
bounded() { timeout -k 10 "$T" "$@"; }

# need TOOL: the cached binary of a pinned tool (tools.sh), built by run.sh or here if missing.
need() {
  local p; p=$(tool_path "$1")
  if [ ! -x "$p" ]; then HOME=$REAL_HOME tool_install "$1" >>"$LOG" 2>&1 || { not_ok "$1 $(tool_version "$1") could not be built (see go install output in the log)"; finish; }; fi
  echo "$p"
}

# ---------------------------------------------------------------------------
# Plain registry reads with curl through the Docker token flow (the registry's own answer,
# independent of the client under test): token for a scope, then GET with an Accept header.
# ---------------------------------------------------------------------------
reg_token() { # reg_token REPO [ACTIONS]
  local chal realm service
  chal=$(curl -sS -o /dev/null -D - --max-time 10 "http://$REG/v2/" | tr -d '\r' | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *Bearer *//p')
  [ -n "$chal" ] || { echo ""; return 0; }   # open mode
  realm=$(sed -n 's/.*realm="\([^"]*\)".*/\1/p' <<<"$chal")
  service=$(sed -n 's/.*service="\([^"]*\)".*/\1/p' <<<"$chal")
  curl -sS --max-time 10 -u "$REG_USER:$REG_PASSWORD" -G "$realm" --data-urlencode "service=$service" \
    --data-urlencode "scope=repository:$1:${2:-pull}" | jq -r '.token // .access_token'
}
reg_get() { # reg_get REPO PATH_AFTER_REPO [ACCEPT] — body on stdout
  local tok; tok=$(reg_token "$1")
  curl -fsS --max-time 60 ${tok:+-H "Authorization: Bearer $tok"} \
    -H "Accept: ${3:-application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json}" \
    "http://$REG/v2/$1/$2"
}
# reg_answer REPO PATH_AFTER_REPO: the registry's status and first error code, e.g. `404 MANIFEST_UNKNOWN`
# (`200 -` when it serves it): a check that something is gone compares this, never "the GET failed".
reg_answer() {
  local tok status code
  tok=$(reg_token "$1")
  status=$(curl -sS --max-time 60 -o "$WORK/answer.body" -w '%{http_code}' ${tok:+-H "Authorization: Bearer $tok"} \
    -H "Accept: application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json" "http://$REG/v2/$1/$2") ||
    { echo "no answer"; return 0; }
  code=$(jq -r '.errors[0].code // "-"' "$WORK/answer.body" 2>/dev/null) || code="(not error JSON)"
  echo "$status ${code:--}"
}
reg_manifest() { reg_get "$1" "manifests/$2"; }                 # reg_manifest REPO REF
reg_digest() { reg_manifest "$1" "$2" | sha256 | sed 's/^/sha256:/'; }
# (The filter is percent-encoded: a raw `+`, as in `…+json`, means a space in a query string.)
reg_referrers() { reg_get "$1" "referrers/$2${3:+?artifactType=$(jq -rn --arg v "$3" '$v | @uri')}" application/vnd.oci.image.index.v1+json; }
reg_tags() { reg_get "$1" "tags/list" application/json | jq -r '.tags[]?' | sort; }

# ---------------------------------------------------------------------------
# A small test image written by hand as an OCI layout: LAYOUT_DIR:v1, digest in IMAGE_DIGEST.
# ---------------------------------------------------------------------------
put_blob() {
  local layout=$1 file=$2 mt=$3 dg size
  dg=$(sha256 <"$file"); size=$(stat -c %s "$file")
  mkdir -p "$layout/blobs/sha256"
  cp "$file" "$layout/blobs/sha256/$dg"
  jq -cn --arg mt "$mt" --arg dg "sha256:$dg" --argjson size "$size" '{mediaType:$mt, digest:$dg, size:$size}'
}
make_image_layout() { # make_image_layout DIR TEXT
  local layout=$1 tmp=$WORK/mk.$RANDOM layer config m
  mkdir -p "$tmp/root/etc"
  printf '%s\n' "$2" >"$tmp/root/hello.txt"
  printf 'ID=berth-test\n' >"$tmp/root/etc/os-release"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/root" -cf "$tmp/layer.tar" . || return 1
  gzip -n -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
  layer=$(put_blob "$layout" "$tmp/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)
  jq -cn --arg diff "sha256:$(sha256 <"$tmp/layer.tar")" '{created: "2024-01-01T00:00:00Z", architecture: "amd64", os: "linux",
      config: {Cmd: ["/hello.txt"], Labels: {"org.example.base": "yes"}}, rootfs: {type: "layers", diff_ids: [$diff]}}' >"$tmp/config.json"
  config=$(put_blob "$layout" "$tmp/config.json" application/vnd.oci.image.config.v1+json)
  jq -cn --argjson c "$config" --argjson l "$layer" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: [$l]}' >"$tmp/manifest.json"
  m=$(put_blob "$layout" "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json)
  IMAGE_DIGEST=$(jq -r .digest <<<"$m")
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  jq -n --argjson d "$m" '{schemaVersion: 2, manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": "v1"}}]}' >"$layout/index.json"
  rm -rf "$tmp"
}

RUNID="$(date +%s)$$"
echo "# $CLIENT_NAME against $REG as $REG_USER, repositories under $NS/, work dir $WORK"
