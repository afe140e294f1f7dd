#!/usr/bin/env bash
# Berth's Dockerfile, built and run by the real Docker engine (a private dockerd:
# overlay2 where the kernel has it, else vfs; no iptables, no bridge; classic builder).
# There is no Docker Hub here, so the base image is assembled locally (base.sh) and
# passed as BASE_IMAGE. Checked from the outside: the build, a healthy health check, a
# non-root user, a docker login, push and pull through token auth, a restart and a new
# container on the same volume that both still serve the pushed image.
#
#   conformance/docker-image/run.sh
#
# Prints `ok - NAME` / `not ok - NAME` and ends with `N passed, N failed`.
# Knobs: BERTH_BIN_CACHE (base tarball cache), BUSYBOX, DOCKER_CLI, KEEP_WORK=1,
#        BUILD_TIMEOUT (seconds for docker build, default 900),
#        DOCKERFILE (default: the repository's; a broken copy proves the checks fail),
#        DOCKERD_STORAGE_DRIVER (overlay2 or vfs; default: overlay2 when available),
#        BERTH_DEBIAN_MIRROR (for mmdebstrap; default http://deb.debian.org/debian).
set -u
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib.sh"           # free_port
. "$HERE/../clients-lib.sh"
. "$HERE/base.sh"
clients_workspace berth-docker-image

RUNID="$(date +%s)-$$"
IMAGE=berth-under-test:$RUNID
CTR=berth-$RUNID
VOL=berth-data-$RUNID
ADMIN_PASSWORD=pw-$RUNID
PORT=$(free_port)
REG=127.0.0.1:$PORT
containers_config "$REG"   # DOCKER_CONFIG (the login) lives in $WORK

# The private dockerd of clients-lib.sh, but on overlay2 where the kernel has it: under
# vfs every build instruction copies the whole image (~35 s a step on this machine).
# Shadows the command like clients-lib.sh's client wrappers; exec keeps dk_start's PID ours.
DOCKER=$(pick_docker_cli)   # before the wrapper below hides where dockerd lives
STORAGE_DRIVER=${DOCKERD_STORAGE_DRIVER:-vfs}
if [ -z "${DOCKERD_STORAGE_DRIVER:-}" ] && grep -qw overlay /proc/filesystems &&
   [ "$(stat -f -c %T "$WORK")" != overlayfs ]; then STORAGE_DRIVER=overlay2; fi
dockerd() {
  local args=() a
  for a in "$@"; do [ "$a" = vfs ] && a=$STORAGE_DRIVER; args+=("$a"); done
  exec dockerd "${args[@]}"
}

# The container goes before dockerd stops, so its volume is released cleanly.
workflow_cleanup() { [ -n "${DOCKERD_PID:-}" ] && dkr rm -f "$CTR" >/dev/null 2>&1; return 0; }

di_engine() { dk_start && eq "storage driver" "$STORAGE_DRIVER" "$(dkr info -f '{{.Driver}}')"; }

di_base() {
  local tar
  tar=$(base_tarball) || return 1
  echo "base tarball: $tar ($(( $(stat -c %s "$tar") / 1048576 )) MiB)"
  base_import "$tar" local/berth-base:1 || return 1
  eq "node in the base" "$(node -v)" "$(dkr run --rm --network none local/berth-base:1 node -v)"
}

# Each output line stamped with the time, so the log shows which step is slow.
di_build() {
  DOCKER_BUILDKIT=0 timeout -k 10 "${BUILD_TIMEOUT:-900}" "$DOCKER" build --network host \
    --build-arg BASE_IMAGE=local/berth-base:1 -f "${DOCKERFILE:-$ROOT/Dockerfile}" -t "$IMAGE" "$ROOT" 2>&1 |
    while IFS= read -r line; do printf '%(%T)T %s\n' -1 "$line"; done
}

di_size() {
  local bytes
  bytes=$(dkr image inspect -f '{{.Size}}' "$IMAGE") || return 1
  echo "# image size: $(( bytes / 1048576 )) MiB ($bytes bytes; the base alone: $(( $(dkr image inspect -f '{{.Size}}' local/berth-base:1) / 1048576 )) MiB)"
}

# health_status: the engine's verdict on the image's own HEALTHCHECK.
health_status() { dkr inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$CTR"; }

# wait_healthy SECONDS: polls the engine until healthy; fails at once if the container stopped.
wait_healthy() {
  local i s=""
  for i in $(seq 1 "$1"); do
    s=$(health_status) || return 1
    [ "$s" = healthy ] && return 0
    [ "$(dkr inspect -f '{{.State.Running}}' "$CTR")" = true ] || { echo "container stopped"; dkr logs --tail 30 "$CTR"; return 1; }
    sleep 1
  done
  echo "health still [$s] after $1 s; last probes:"
  dkr inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{"\n"}}{{end}}' "$CTR"
  dkr logs --tail 30 "$CTR"; return 1
}

# start_container: a new container on the named volume. --network host: this engine
# has no bridge. Token auth, as users run it. Waits (bounded) for the registry to answer.
start_container() {
  dkr run -d --name "$CTR" --network host -v "$VOL:/var/lib/berth" \
    -e BERTH_ADDR="$REG" -e BERTH_ADMIN_PASSWORD="$ADMIN_PASSWORD" -e BERTH_WORKERS=1 "$IMAGE" || return 1
  local i code=""
  for i in $(seq 1 60); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$REG/v2/")
    [ "$code" = 401 ] && return 0
    [ "$(dkr inspect -f '{{.State.Running}}' "$CTR")" = true ] || { echo "container stopped"; dkr logs --tail 30 "$CTR"; return 1; }
    sleep 1
  done
  echo "GET /v2/ without credentials: expected 401 within 60 s, last [$code]"; dkr logs --tail 30 "$CTR"; return 1
}

di_not_root() {
  local uid
  uid=$(dkr exec "$CTR" id -u) || return 1
  [ "$uid" != 0 ] || { echo "the server runs as root"; return 1; }
  eq "user of the server process (PID 1)" "$uid" "$(dkr exec "$CTR" stat -c %u /proc/1)" || return 1
  # Only the data is the server's: its own code is not writable to it.
  if dkr exec "$CTR" test -w /app/dist/cli.js; then echo "the server can rewrite its own code"; return 1; fi
}

di_login() {
  printf '%s' "$ADMIN_PASSWORD" | dkr login "$REG" -u admin --password-stdin || return 1
  # A wrong password must be refused, or the login above proves nothing.
  if printf 'wrong' | dkr login "$REG" -u admin --password-stdin; then echo "a wrong password logged in"; return 1; fi
  printf '%s' "$ADMIN_PASSWORD" | dkr login "$REG" -u admin --password-stdin
}

di_push_pull() {
  dk_import_base || return 1   # a static busybox imported from scratch: local/base:1
  dkr tag local/base:1 "$REG/smoke/busybox:1" || return 1
  dkr push "$REG/smoke/busybox:1" | tee "$WORK/push.out" || return 1
  PUSHED_DIGEST=$(push_digest "$WORK/push.out")
  [ -n "$PUSHED_DIGEST" ] || { echo "no digest in docker push output"; return 1; }
  pull_back
}

# pull_back: drop every local copy, pull from Berth, same digest, and it runs.
pull_back() {
  dkr rmi -f "$REG/smoke/busybox:1" local/base:1 >/dev/null 2>&1
  if dkr image inspect "$REG/smoke/busybox:1" >/dev/null 2>&1; then echo "image still present after rmi"; return 1; fi
  dkr pull "$REG/smoke/busybox:1" || return 1
  eq "RepoDigests" "$REG/smoke/busybox@$PUSHED_DIGEST" \
    "$(dkr image inspect --format '{{join .RepoDigests " "}}' "$REG/smoke/busybox:1")" || return 1
  eq "docker run of the pulled image" "pulled ok" "$(dkr run --rm --network none "$REG/smoke/busybox:1" /bin/echo pulled ok)"
}

# A restart keeps the container's own layer too; a new container on the same volume
# proves the data lives on the volume.
di_recreate_keeps_data() {
  dkr rm -f "$CTR" || return 1
  start_container || return 1
  pull_back
}

di_restart_keeps_data() {
  local started
  started=$(dkr inspect -f '{{.State.StartedAt}}' "$CTR") || return 1
  dkr restart -t 20 "$CTR" || return 1
  [ "$(dkr inspect -f '{{.State.StartedAt}}' "$CTR")" != "$started" ] || { echo "container was not restarted"; return 1; }
  wait_healthy 90 || return 1
  eq "volume mounted at the data directory" "$VOL" \
    "$(dkr inspect -f '{{range .Mounts}}{{if eq .Destination "/var/lib/berth"}}{{.Name}}{{end}}{{end}}' "$CTR")" || return 1
  pull_back
}

have=1
type -P dockerd >/dev/null || { not_ok "dockerd missing"; have=0; }   # the binary, not the wrapper
for t in mmdebstrap node curl jq python3; do need_tool "$t" || have=0; done
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { not_ok "busybox-static missing ($BUSYBOX)"; have=0; }
[ $have = 1 ] || finish
echo "# docker CLI: $DOCKER, Berth on $REG, work dir $WORK"
check "docker: private dockerd starts ($STORAGE_DRIVER, no iptables, no bridge)" di_engine || finish
check "base image: mmdebstrap bookworm minbase + this machine's node (cached), imported" di_base || finish
check "docker build (classic builder, --network host) of Berth's Dockerfile with BASE_IMAGE=local base" di_build || finish
di_size
check "container starts (token auth, named volume), GET /v2/ answers 401" start_container || finish
check "the container turns healthy by the image's own HEALTHCHECK" wait_healthy 90
check "the server runs as a non-root user" di_not_root
check "docker login as admin (and a wrong password is refused)" di_login || finish
check "docker push of a from-scratch image into the container, pull back by the same digest" di_push_pull || finish
check "docker restart: healthy again, the pushed image still pulls" di_restart_keeps_data
check "a new container on the same volume still serves the pushed image" di_recreate_keeps_data
finish
