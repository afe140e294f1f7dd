# The real-client harness shared by conformance/clients-*/run.sh: a scratch
# directory holding every client's state, a private Docker engine, `ok`/`not ok`
# reporting with a closing `N passed, N failed`, and bounded client commands.
# Source it after setting nothing; call `clients_workspace PREFIX` first.
# Everything it starts is stopped by PID on exit, failure included.

# clients_workspace PREFIX: creates $WORK (with $LOG) and installs the EXIT trap.
clients_workspace() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || { echo "cannot create work dir" >&2; exit 2; }
  LOG=$WORK/log.txt
  : >"$LOG"
  DOCKERD_PID=""   # set only once we have started dockerd ourselves
  START=$(date +%s)
  trap clients_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# containers_config REGISTRY: client configuration kept inside $WORK (auth files, containers storage,
# registries.conf marking the registry under test as plain HTTP), exported for docker, skopeo,
# podman and buildah.
containers_config() {
  local reg=$1
  export REGISTRY_AUTH_FILE=$WORK/auth.json
  export DOCKER_CONFIG=$WORK/docker-config
  mkdir -p "$DOCKER_CONFIG" "$WORK/cs/run" "$WORK/cs/root" "$WORK/cs/tmp"
  cat >"$WORK/storage.conf" <<EOF
# vfs: no overlay/fuse needed, works as root in any container.
[storage]
driver = "vfs"
runroot = "$WORK/cs/run"
graphroot = "$WORK/cs/root"
EOF
  cat >"$WORK/registries.conf" <<EOF
# Marks the registry under test as plain HTTP for commands without --tls-verify.
unqualified-search-registries = []
[[registry]]
location = "$reg"
insecure = true
EOF
  cat >"$WORK/containers.conf" <<EOF
# Keep podman's runtime state out of /run/libpod, which belongs to the machine's own podman.
[engine]
tmp_dir = "$WORK/cs/tmp"
volume_path = "$WORK/cs/volumes"
events_logger = "none"
cgroup_manager = "cgroupfs"
EOF
  export CONTAINERS_STORAGE_CONF=$WORK/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf
  export CONTAINERS_CONF=$WORK/containers.conf
  export BUILDAH_ISOLATION=chroot
  # buildah/podman refuse a REGISTRY_AUTH_FILE that does not exist yet.
  echo '{"auths":{}}' >"$REGISTRY_AUTH_FILE"
}

stop_dockerd() {
  [ -n "$DOCKERD_PID" ] || return 0
  local pid=$DOCKERD_PID d=$WORK/d i
  # Prefer the daemon's own pidfile, but only if it names the process we started:
  # we never signal a PID that is not ours.
  if [ -s "$d/pid" ] && [ "$(cat "$d/pid")" = "$DOCKERD_PID" ]; then pid=$(cat "$d/pid"); fi
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "# dockerd $pid did not stop within 30s, sending KILL" >&2
      kill -KILL "$pid" 2>/dev/null
      # dockerd's managed containerd is our grandchild; after a KILL it would be orphaned.
      # Only if that PID really is the containerd configured under our $WORK.
      local cpid
      cpid=$(cat "$d/exec/containerd/containerd.pid" 2>/dev/null || true)
      if [ -n "$cpid" ] && tr '\0' ' ' <"/proc/$cpid/cmdline" 2>/dev/null | grep -qF "$d/exec/containerd/"; then
        kill -KILL "$cpid" 2>/dev/null
      fi
    fi
  fi
  wait "$DOCKERD_PID" 2>/dev/null
  DOCKERD_PID=""
}

clients_cleanup() {
  local rc=$? p i
  trap - EXIT INT TERM
  # Background processes a workflow registered in BG_PIDS, then its own cleanup hook, if any.
  for p in ${BG_PIDS:-}; do
    kill -TERM "$p" 2>/dev/null || continue
    for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  if type workflow_cleanup >/dev/null 2>&1; then workflow_cleanup; fi
  stop_dockerd
  # dockerd/buildah may leave bind mounts (netns, overlays) below $WORK; unmount them
  # deepest first so that rm -rf can never walk into a host directory.
  if [ -d "$WORK" ]; then
    awk -v w="$WORK" 'index($5, w"/")==1 {print $5}' /proc/self/mountinfo 2>/dev/null |
      sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
    if [ "${KEEP_WORK:-0}" = 1 ]; then
      echo "# work dir kept: $WORK" >&2
    else
      rm -rf --one-file-system "$WORK"
    fi
  fi
  exit "$rc"
}

# --- reporting ---------------------------------------------------------------
PASS=0
FAIL=0
# REPORT_PREFIX (e.g. "oras: ") names the client in every line when several scripts' output is merged.
ok()     { PASS=$((PASS + 1)); echo "ok - ${REPORT_PREFIX:-}$1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - ${REPORT_PREFIX:-}$1"; }

# check NAME CMD...: run CMD (its output goes to the log), report by exit status.
# On failure show the tail of CMD's output so a red run is debuggable from stdout alone.
check() {
  local name=$1; shift
  local out=$WORK/last.out
  echo "=== $name: $*" >>"$LOG"
  if "$@" >"$out" 2>&1; then
    cat "$out" >>"$LOG"; ok "$name"; return 0
  else
    cat "$out" >>"$LOG"; not_ok "$name"
    tail -n 15 "$out" | sed 's/^/#   /'
    return 1
  fi
}

# Small assertion helpers used inside check'ed functions; they print what differed.
eq() { # eq WHAT EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then return 0; fi
  echo "$1: expected [$2] got [$3]"; return 1
}
# fails_with PATTERN CMD...: CMD must fail, and with the error PATTERN (an extended regex) names:
# the client's rendering of the registry's refusal or "not found". Any other failure (a crash, a 500,
# a refused connection, a timeout) fails the check: a non-zero exit alone proves nothing was refused.
fails_with() {
  local pattern=$1; shift
  local out=$WORK/fails-with.out rc
  "$@" >"$out" 2>&1
  rc=$?
  cat "$out"
  if [ "$rc" -eq 0 ]; then echo "expected a failure matching [$pattern], but the command succeeded"; return 1; fi
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "timed out or killed (exit $rc)"; return 1; fi
  grep -qE -- "$pattern" "$out" || { echo "failed (exit $rc), but not with [$pattern]"; return 1; }
}
# Berth's two access errors (src/http/registry-error.ts), as errcode-style clients print them, code then
# message: `unauthorized: authentication required` (containers/image, docker, oras-go) or
# `UNAUTHORIZED: authentication required` (go-containerregistry); a 403 alike with DENIED. A HEAD
# answer has no body to quote: oras-go (oras, notation, helm) then names the status itself.
REFUSAL='(unauthorized|UNAUTHORIZED): authentication required|(denied|DENIED): requested access to the resource is denied'
REFUSAL+='|: response status code (401|403): '
# refused CMD...: CMD must fail with one of Berth's access errors.
refused() { fails_with "$REFUSAL" "$@"; }

# select_workflows KNOWN...: the workflows a runner does, from ONLY: a space-separated subset of
# KNOWN (unset or empty: all of them), the same meaning in every runner. A name the runner does not know,
# or an ONLY that names none, fails the run before anything runs instead of passing on nothing.
select_workflows() {
  local w
  WORKFLOWS=${ONLY:-$*}
  [ -n "${WORKFLOWS//[[:space:]]/}" ] || { not_ok "ONLY='${ONLY-}' names no workflow (known: $*)"; finish; }
  for w in $WORKFLOWS; do
    case " $* " in *" $w "*) ;; *) not_ok "ONLY: unknown workflow '$w' (known: $*)"; finish ;; esac
  done
}
selected() { case " $WORKFLOWS " in *" $1 "*) return 0 ;; esac; return 1; }

need_tool() { # missing tools are failures, never silent skips
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  not_ok "$1 missing"; return 1
}
sha256() { sha256sum | cut -d' ' -f1; }

# The closing line every runner reads: exactly `N passed, N failed`.
finish() {
  echo "# ${REPORT_PREFIX:-}took $(( $(date +%s) - START ))s"
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
  exit $?
}

# --- bounded clients -----------------------------------------------------------
# A registry that stalls mid-request must fail the check, not hang the run.
# These wrappers shadow the client commands for the rest of the script.
T=${CLIENT_TIMEOUT:-180}
skopeo()  { timeout -k 10 "$T" skopeo "$@"; }
podman()  { timeout -k 10 "$T" podman "$@"; }
buildah() { timeout -k 10 "$T" buildah "$@"; }
umoci()   { timeout -k 10 "$T" umoci "$@"; }
dkr()     { timeout -k 10 "$T" "$DOCKER" "$@"; }

# --- the Docker engine -----------------------------------------------------------
# A private dockerd (vfs, no iptables, no bridge) whose state lives in $WORK/d. The
# engine treats 127.0.0.0/8 as insecure, so plain HTTP works. The docker.io package's
# CLI matches its engine; another CLI earlier on PATH (e.g. /usr/local/bin/docker)
# would also work through API negotiation, but the matching one keeps runs comparable.
pick_docker_cli() {
  if [ -n "${DOCKER_CLI:-}" ]; then echo "$DOCKER_CLI"; return; fi
  if [ -x /usr/bin/docker ] && command -v dockerd >/dev/null 2>&1 && [ "$(command -v dockerd)" = /usr/sbin/dockerd ]; then
    echo /usr/bin/docker; return
  fi
  command -v docker
}

dk_start() {
  local d=$WORK/d i
  mkdir -p "$d"
  dockerd --data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/pid" --host "unix://$d/docker.sock" \
    --storage-driver vfs --iptables=false --ip6tables=false --bridge=none >"$d/log" 2>&1 &
  DOCKERD_PID=$!
  export DOCKER_HOST=unix://$d/docker.sock
  for i in $(seq 1 60); do   # usually answers within 2-5 s
    if timeout 10 "$DOCKER" info >/dev/null 2>&1; then return 0; fi
    kill -0 "$DOCKERD_PID" 2>/dev/null || { echo "dockerd exited:"; tail -n 20 "$d/log"; return 1; }
    sleep 1
  done
  echo "docker info did not answer within 60s"; tail -n 20 "$d/log"; return 1
}

# A base image with no internet: a static busybox and a few applets, imported as local/base:1.
dk_import_base() {
  local root=$WORK/rootfs b
  mkdir -p "$root/bin" "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox" || return 1
  for b in sh echo cat ls; do ln -sf busybox "$root/bin/$b"; done
  tar -C "$root" -c . | dkr import - local/base:1 || return 1
  eq "busybox runs in the base image" "base ok" "$(dkr run --rm --network none local/base:1 /bin/echo base ok)"
}

# Digest the engine printed for a push ("...: digest: sha256:... size: N").
push_digest() { sed -n 's/.*digest: \(sha256:[0-9a-f]*\) size.*/\1/p' "$1" | tail -n 1; }
