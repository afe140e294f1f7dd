#!/usr/bin/env bash
# The pull-through cache (issue #21) with real clients: the upstream is a loopback CNCF Distribution 2.8.2
# (Debian's docker-registry, anonymous), Berth runs with token auth, two workers and a proxy prefix `up`
# open to anonymous pulls. The Docker engine and podman pull an image through the cache; the upstream is
# stopped and the cached tag still pulls (tagTtlSeconds 0: every pull revalidates, so this is the stale
# path); then 32 concurrent pulls of one uncached 256 MiB blob, and the upstream's access log must show
# exactly one GET of it.
#
#   conformance/proxy/run.sh        (needs dist/: npm run build)
#
# Prints `ok - NAME` / `not ok - NAME` and ends with `N passed, N failed`. Knobs: BIG_MIB (default 256),
# PULLS (default 32), KEEP_WORK=1.
set -u
set -o pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO_ROOT/conformance/lib.sh"
. "$REPO_ROOT/conformance/clients-lib.sh"
clients_workspace berth-proxy
BIG_MIB=${BIG_MIB:-256}
PULLS=${PULLS:-32}
BUSYBOX=${BUSYBOX:-/bin/busybox}
DOCKER=$(pick_docker_cli)
UPSTREAM_PID=

workflow_cleanup() {
  stop_upstream
  berth_stop
}

# --- the upstream: Distribution 2.8.2, access log on (it is what the single-flight check counts) -------
UP_PORT=$(free_port)
UP=127.0.0.1:$UP_PORT
cat >"$WORK/registry.yml" <<YML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $WORK/upstream
  delete:
    enabled: true
http:
  addr: $UP
YML
start_upstream() {
  # containers_config exports REGISTRY_AUTH_FILE, which Distribution would read as its auth.file setting.
  env -u REGISTRY_AUTH_FILE docker-registry serve "$WORK/registry.yml" >>"$WORK/upstream.log" 2>&1 &
  UPSTREAM_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://$UP/v2/" >/dev/null 2>&1 && return 0
    kill -0 "$UPSTREAM_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "docker-registry did not start:"; tail -n 20 "$WORK/upstream.log"; return 1
}
stop_upstream() {
  [ -n "$UPSTREAM_PID" ] || return 0
  kill -TERM "$UPSTREAM_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$UPSTREAM_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$UPSTREAM_PID" 2>/dev/null
  wait "$UPSTREAM_PID" 2>/dev/null
  UPSTREAM_PID=
}
# GETs of PATH the upstream's access log shows (combined log format: "GET /v2/... HTTP/1.1" STATUS).
upstream_gets() { grep -cF "\"GET $1 HTTP/1.1\" 200" "$WORK/upstream.log"; }

need_tool docker-registry || finish
need_tool skopeo || finish
need_tool podman || finish
need_tool dockerd || finish
containers_config "127.0.0.1"   # rewritten below once Berth's port is known

# --- an image that runs: a static busybox layer, written as an OCI layout --------------------------------
put_blob() {
  local layout=$1 file=$2 mt=$3 dg
  dg=$(sha256 <"$file")
  mkdir -p "$layout/blobs/sha256"
  cp "$file" "$layout/blobs/sha256/$dg"
  jq -cn --arg mt "$mt" --arg dg "sha256:$dg" --argjson size "$(stat -c %s "$file")" '{mediaType:$mt, digest:$dg, size:$size}'
}
build_image() {
  local L=$WORK/layout root=$WORK/root layer config manifest
  mkdir -p "$root/bin"
  cp "$BUSYBOX" "$root/bin/busybox" || return 1
  for b in sh echo cat; do ln -sf busybox "$root/bin/$b"; done
  printf 'through the cache\n' >"$root/hello.txt"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$WORK/layer.tar" . || return 1
  gzip -n -c "$WORK/layer.tar" >"$WORK/layer.tar.gz"
  layer=$(put_blob "$L" "$WORK/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)
  jq -cn --arg diff "sha256:$(sha256 <"$WORK/layer.tar")" '{architecture:"amd64", os:"linux",
    config:{Cmd:["/bin/cat","/hello.txt"]}, rootfs:{type:"layers", diff_ids:[$diff]}}' >"$WORK/config.json"
  config=$(put_blob "$L" "$WORK/config.json" application/vnd.oci.image.config.v1+json)
  jq -cn --argjson c "$config" --argjson l "$layer" \
    '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json", config:$c, layers:[$l]}' >"$WORK/manifest.json"
  manifest=$(put_blob "$L" "$WORK/manifest.json" application/vnd.oci.image.manifest.v1+json)
  echo '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
  jq -n --argjson d "$manifest" '{schemaVersion:2, manifests:[$d + {annotations:{"org.opencontainers.image.ref.name":"v1"}}]}' >"$L/index.json"
  IMAGE_DIGEST=$(jq -r .digest <<<"$manifest")
  skopeo copy --dest-tls-verify=false "oci:$L:v1" "docker://$UP/library/busy:v1"
}
# The big blob, pushed straight into the upstream (POST, then PUT ?digest= with the bytes).
push_big() {
  head -c "$((BIG_MIB * 1024 * 1024))" /dev/urandom >"$WORK/big.bin" || return 1
  BIG=sha256:$(sha256 <"$WORK/big.bin")
  local location
  location=$(curl -fsS -o /dev/null -D - -X POST "http://$UP/v2/big/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [ -n "$location" ] || { echo "no upload location"; return 1; }
  case $location in http*) ;; *) location="http://$UP$location" ;; esac
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/big.bin" \
    "$location$(case $location in *\?*) echo '&' ;; *) echo '?' ;; esac)digest=$BIG" || return 1
  rm -f "$WORK/big.bin"
  echo "big blob $BIG"
}

check "upstream: Distribution 2.8.2 starts" start_upstream || finish
check "upstream: an image pushed with skopeo" build_image || finish
check "upstream: a ${BIG_MIB} MiB blob pushed" push_big || finish

# --- Berth: token auth, two workers, the cache ---------------------------------------------------------
BERTH_PROXIES="[{\"prefix\":\"up\",\"url\":\"http://$UP\",\"access\":\"anonymous\",\"tagTtlSeconds\":0}]"
berth_start "$WORK/berth" BERTH_ADMIN_PASSWORD="proxy-$RANDOM$RANDOM" BERTH_WORKERS=2 BERTH_PROXIES="$BERTH_PROXIES" || { not_ok "Berth starts"; finish; }
REG=$BERTH_HOSTPORT
containers_config "$REG"
echo "# upstream $UP (pid $UPSTREAM_PID), Berth $REG (pid $BERTH_PID), work dir $WORK"

docker_pull() {
  dkr pull "$REG/up/library/busy:v1" || return 1
  eq "RepoDigest" "$REG/up/library/busy@$IMAGE_DIGEST" "$(dkr image inspect --format '{{index .RepoDigests 0}}' "$REG/up/library/busy:v1")" || return 1
  eq "the image runs" "through the cache" "$(dkr run --rm --network none "$REG/up/library/busy:v1")"
}
podman_pull() {
  podman rmi -f "$REG/up/library/busy:v1" >/dev/null 2>&1
  podman pull --tls-verify=false "$REG/up/library/busy:v1" || return 1
  eq "Digest" "$IMAGE_DIGEST" "$(podman image inspect --format '{{.Digest}}' "$REG/up/library/busy:v1")"
}
docker_repull() {
  dkr rmi -f "$REG/up/library/busy:v1" || return 1
  docker_pull
}
push_refused() {
  dkr tag "$REG/up/library/busy:v1" "$REG/up/library/busy:mine" || return 1
  fails_with 'denied|pull-through cache' dkr push "$REG/up/library/busy:mine"
}

check "docker: private dockerd starts" dk_start || finish
check "docker: pulls through the cache, same digest, runs" docker_pull
check "podman: pulls through the cache, same digest" podman_pull
check "docker: a push into the cache's prefix is refused" push_refused
check "upstream stopped" stop_upstream
check "docker: the cached tag still pulls with the upstream down" docker_repull
check "podman: the cached tag still pulls with the upstream down" podman_pull
uncached_fails() { fails_with 'unavailable|502|Bad Gateway' skopeo inspect --raw --tls-verify=false "docker://$REG/up/library/other:v1"; }
check "skopeo: an uncached tag is UNAVAILABLE with the upstream down" uncached_fails
check "upstream started again" start_upstream

# --- 32 concurrent pulls of one uncached blob: one upstream GET ------------------------------------------
concurrent_pulls() {
  local token i bad=0 started=$SECONDS pids=()
  token=$(curl -fsS "http://$REG/token?service=berth&scope=repository:up/big:pull" | jq -r .token) || return 1
  for i in $(seq 1 "$PULLS"); do
    ( curl -fsS -H "Authorization: Bearer $token" "http://$REG/v2/up/big/blobs/$BIG" | sha256sum | cut -d' ' -f1 >"$WORK/pull.$i" ) &
    pids+=($!)
  done
  # The pulls only: a bare `wait` would also wait for dockerd, the upstream and Berth.
  wait "${pids[@]}"
  for i in $(seq 1 "$PULLS"); do [ "sha256:$(cat "$WORK/pull.$i")" = "$BIG" ] || bad=$((bad + 1)); done
  echo "$PULLS pulls of ${BIG_MIB} MiB in $((SECONDS - started)) s, $bad with wrong bytes" | tee "$WORK/measured.txt"
  eq "pulls with the wrong bytes" 0 "$bad" || return 1
  eq "upstream GETs of the blob (its access log)" 1 "$(upstream_gets "/v2/big/blobs/$BIG")" || return 1
  local metrics
  metrics=$(curl -fsS "http://$REG/metrics") || return 1
  grep -E '^berth_proxy_(pulls_total|upstream_bytes_total)' <<<"$metrics" | tee -a "$WORK/measured.txt"
}
check "$PULLS concurrent pulls of one uncached ${BIG_MIB} MiB blob (two workers): the upstream serves it once" concurrent_pulls
sed 's/^/# /' "$WORK/measured.txt" 2>/dev/null
cat "$WORK/berth/berth.log" >>"$LOG"
finish
