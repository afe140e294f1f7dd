#!/usr/bin/env bash
# Quotas (issue #22) with real clients: Berth runs with token auth (its own, on a fresh data directory); the
# `berth quota` CLI sets limits on the same database. The Docker engine pushing over a user's byte quota must
# fail and PRINT Berth's refusal with its figures ("storage quota of U exceeded: N bytes used, M allowed");
# raised, the same push succeeds; a push past the versions-per-package limit prints the version refusal.
# skopeo alike, for both limits. `berth quota verify` then finds the counter equal to a recount.
#
#   conformance/quotas/run.sh        (needs dist/: npm run build)
#
# Prints `ok - NAME` / `not ok - NAME` and ends with `N passed, N failed`. Knobs: KEEP_WORK=1, CLIENT_TIMEOUT,
# DOCKER_CLI, BUSYBOX (a static busybox for the Docker base image; default /bin/busybox).
set -u
set -o pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO_ROOT/conformance/lib.sh"
. "$REPO_ROOT/conformance/clients-lib.sh"
clients_workspace berth-quotas
BUSYBOX=${BUSYBOX:-/bin/busybox}
DOCKER=$(pick_docker_cli)
BERTH_CLI=$REPO_ROOT/dist/cli.js
# Running servers read an owner's limits at most every 5 s (src/quotas/quota-policy.ts: LIMITS_TTL_MS).
LIMITS_TTL=6

workflow_cleanup() { berth_stop; }

need_tool skopeo || finish
need_tool dockerd || finish
need_tool jq || finish
[ -x "$BUSYBOX" ] || { not_ok "busybox-static missing ($BUSYBOX)"; finish; }
[ -f "$BERTH_CLI" ] || { not_ok "no berth CLI at $BERTH_CLI (npm run build)"; finish; }

ADMIN_PASSWORD=quotas-$RANDOM$RANDOM
berth_start "$WORK/berth" BERTH_ADMIN_PASSWORD="$ADMIN_PASSWORD" || { not_ok "Berth starts"; finish; }
ok "Berth starts (token auth) at $BERTH_URL"
REG=$BERTH_HOSTPORT
containers_config "$REG"
berth() { timeout -k 10 60 env BERTH_DATA="$WORK/berth" BERTH_LOG_LEVEL=warn node "$BERTH_CLI" "$@"; }

RUNID="$(date +%s)$$"
U="dq-$RUNID"; UPW="pw-$RUNID-$RANDOM"   # the Docker engine's user
S="sq-$RUNID"; SPW="pw-$RUNID-$RANDOM"   # skopeo's user
fixtures() {
  printf '%s\n' "$UPW" | berth user add "$U" --password-stdin || return 1
  printf '%s\n' "$SPW" | berth user add "$S" --password-stdin || return 1
  berth quota set --user "$U" --bytes 4096 --versions 1 || return 1
  berth quota set --user "$S" --bytes 4096 --versions 1
}
check "berth quota set: $U and $S may store 4096 bytes and 1 version per package" fixtures || finish

# The refusal as Berth words it (src/registry/storage-quota.ts), as clients print it: `denied: MESSAGE`.
storage_refusal() { echo "denied: storage quota of $1 exceeded: [0-9]+ bytes used, $2 allowed; this blob needs [0-9]+ more"; }
version_refusal() { echo "denied: version quota of $1 exceeded: it has 1 versions, 1 allowed"; }

# --- the Docker engine -----------------------------------------------------------------------------------
dk_login() { printf '%s' "$UPW" | dkr login "$REG" -u "$U" --password-stdin; }
dk_over_quota() {
  dkr tag local/base:1 "$REG/$U/app:1" || return 1
  fails_with "$(storage_refusal "$U" 4096)" dkr push "$REG/$U/app:1" || return 1
  # Nothing of the refused layer is there: no tag, and the usage is what was linked (the config at most).
  refused_or_missing=$(skopeo inspect --raw --tls-verify=false --creds "$U:$UPW" "docker://$REG/$U/app:1" 2>&1)
  grep -qiE 'manifest unknown|not found' <<<"$refused_or_missing" || { echo "tag present after a refused push: $refused_or_missing"; return 1; }
}
dk_raised() {
  berth quota set --user "$U" --bytes 64MiB --versions 1 || return 1
  sleep "$LIMITS_TTL"
  dkr push "$REG/$U/app:1" | tee "$WORK/push.out" || return 1
  eq "registry digest vs docker push" "$(push_digest "$WORK/push.out")" \
    "$(skopeo inspect --raw --tls-verify=false --creds "$U:$UPW" "docker://$REG/$U/app:1" | sha256 | sed 's/^/sha256:/')"
}
dk_versions() {
  # Another image (another layer, so another manifest): a second version of $U/app, past its limit of 1.
  mkdir -p "$WORK/other/bin"
  cp "$BUSYBOX" "$WORK/other/bin/busybox" && echo "another $RUNID" >"$WORK/other/version" || return 1
  tar -C "$WORK/other" -c . | dkr import - local/other:1 || return 1
  dkr tag local/other:1 "$REG/$U/app:2" || return 1
  fails_with "$(version_refusal "$U/app")" dkr push "$REG/$U/app:2" || return 1
  # The first version is untouched; another package of the user has a count of its own.
  dkr tag local/other:1 "$REG/$U/tool:1" && dkr push "$REG/$U/tool:1"
}
if [ -n "$DOCKER" ]; then
  echo "# docker CLI: $DOCKER"
  if check "docker: private dockerd starts (vfs, no iptables, no bridge)" dk_start; then
    if check "docker: import busybox base image offline" dk_import_base && check "docker: login" dk_login; then
      check "docker: push over the byte quota fails printing Berth's refusal with the figures; no tag" dk_over_quota
      check "docker: the same push succeeds once berth quota set raised the limit" dk_raised
      check "docker: a second version past the versions limit fails printing the version refusal" dk_versions
    fi
    stop_dockerd
  fi
else
  not_ok "docker missing"
fi

# --- skopeo ------------------------------------------------------------------------------------------------
# Two images written by hand as OCI layouts (layers of 8 KiB of noise: over 4096 bytes however compressed).
put_blob() {
  local layout=$1 file=$2 mt=$3 dg
  dg=$(sha256 <"$file")
  mkdir -p "$layout/blobs/sha256"
  cp "$file" "$layout/blobs/sha256/$dg"
  jq -cn --arg mt "$mt" --arg dg "sha256:$dg" --argjson size "$(stat -c %s "$file")" '{mediaType:$mt, digest:$dg, size:$size}'
}
build_layout() { # build_layout DIR SEED
  local layout=$1 tmp=$1.mk layer config m
  mkdir -p "$tmp"
  head -c 8192 /dev/urandom >"$tmp/layer.bin"
  layer=$(put_blob "$layout" "$tmp/layer.bin" application/vnd.oci.image.layer.v1.tar) || return 1
  jq -cn --arg seed "$2" '{architecture: "amd64", os: "linux", config: {Labels: {seed: $seed}}, rootfs: {type: "layers", diff_ids: []}}' >"$tmp/config.json"
  config=$(put_blob "$layout" "$tmp/config.json" application/vnd.oci.image.config.v1+json) || return 1
  jq -cn --argjson c "$config" --argjson l "$layer" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: [$l]}' >"$tmp/manifest.json"
  m=$(put_blob "$layout" "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json) || return 1
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  jq -n --argjson d "$m" '{schemaVersion: 2, manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": "v1"}}]}' >"$layout/index.json"
}
sk_copy() { skopeo copy --dest-tls-verify=false --dest-creds "$S:$SPW" "oci:$1:v1" "docker://$REG/$S/$2"; }
sk_over_quota() {
  build_layout "$WORK/sk1" one && build_layout "$WORK/sk2" two || return 1
  fails_with "$(storage_refusal "$S" 4096)" sk_copy "$WORK/sk1" app:v1
}
sk_raised_then_versions() {
  berth quota set --user "$S" --bytes 1MiB --versions 1 || return 1
  sleep "$LIMITS_TTL"
  sk_copy "$WORK/sk1" app:v1 || return 1
  fails_with "$(version_refusal "$S/app")" sk_copy "$WORK/sk2" app:v2 || return 1
  # The refused manifest is not there; its blobs were (they fit the bytes).
  fails_with 'manifest unknown|not found' skopeo inspect --raw --tls-verify=false --creds "$S:$SPW" "docker://$REG/$S/app:v2"
}
check "skopeo: copy over the byte quota fails printing Berth's refusal with the figures" sk_over_quota
check "skopeo: raised, the copy succeeds; a second version past the limit fails printing the version refusal" sk_raised_then_versions

# --- the counter against a recount, after all of the above -------------------------------------------------
verify_usage() {
  local who out
  for who in "$U" "$S"; do
    out=$(berth quota verify --user "$who") || { echo "$out"; return 1; }
    echo "$out"
    [ "$(jq .counted <<<"$out")" -gt 0 ] || { echo "no usage counted for $who"; return 1; }
  done
  berth quota show --user "$U"
}
check "berth quota verify: the usage counter equals a recount from the links, for both users" verify_usage
finish
