# The servers the scale-out configuration needs, for tests: Redis (Debian's
# redis-server) and a real S3 server (versitygw, built once with `go install`
# and cached). Source this file, then:
#
#   redis_start   installs redis-server if absent, starts it on a free loopback port
#                 with a temporary directory; exports REDIS_URL (sets REDIS_PID, REDIS_DIR)
#   s3_start      builds versitygw if it is not cached, starts it on a free loopback port
#                 over a temporary directory, creates the bucket; exports S3_BUCKET,
#                 S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
#                 S3_FORCE_PATH_STYLE (sets S3_PID, S3_DIR)
#   pg_start      installs Debian's postgresql if absent, runs initdb into a temporary
#                 directory as the unprivileged user `nobody` (PostgreSQL refuses root),
#                 starts it on a free loopback port; exports DATABASE_URL (sets PG_PID, PG_DIR)
#   redis_stop, s3_stop, pg_stop   stop by PID and remove the directory; call them from your EXIT trap.
#   pg_down / pg_up      stop PostgreSQL (fast shutdown) keeping its data, start it again on the same
#                        port (a restart, as an operator's or a crash's; sets PG_PID anew)
#   pg_freeze / pg_thaw  SIGSTOP / SIGCONT the postmaster and its backends: a server that accepts
#                        TCP connections (the kernel does) and never answers
#
# The versitygw binary is cached as $BERTH_BIN_CACHE/versitygw-<version> (default
# ~/.cache/berth/bin), so only the first run on a machine builds it.

BERTH_BIN_CACHE=${BERTH_BIN_CACHE:-$HOME/.cache/berth/bin}
VERSITYGW_MODULE=github.com/versity/versitygw/cmd/versitygw
VERSITYGW_VERSION=v1.8.0
BERTH_SERVICES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

_svc_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# _svc_stop PID: TERM, a bounded wait, then KILL; only the process we started.
_svc_stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# _svc_wait_ready PID CMD...: true once CMD succeeds; false when PID exits first or after 30 s
# (a loaded 2-core machine can take seconds to start a server).
_svc_wait_ready() {
  local pid=$1
  shift
  for _ in $(seq 1 300); do
    "$@" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

_redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

redis_start() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "installing redis-server" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq install redis-server >/dev/null ||
      { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq update &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq install redis-server >/dev/null; } || return 1
  fi
  REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/berth-redis.XXXXXX")
  local port; port=$(_svc_free_port)
  redis-server --bind 127.0.0.1 --port "$port" --dir "$REDIS_DIR" --save '' --appendonly no \
    --daemonize no --logfile "$REDIS_DIR/redis.log" </dev/null >/dev/null 2>&1 &
  REDIS_PID=$!
  if _svc_wait_ready "$REDIS_PID" _redis_answers "$port"; then
    export REDIS_URL=redis://127.0.0.1:$port
    return 0
  fi
  echo "redis-server did not start; its log:" >&2
  cat "$REDIS_DIR/redis.log" >&2
  redis_stop
  return 1
}

redis_stop() {
  _svc_stop "${REDIS_PID:-}"
  REDIS_PID=
  if [ -n "${REDIS_DIR:-}" ]; then rm -rf "$REDIS_DIR"; fi
  REDIS_DIR=
}

# Prints the path of the versitygw binary, building it first if it is not cached.
s3_binary() {
  local bin=$BERTH_BIN_CACHE/versitygw-$VERSITYGW_VERSION
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null 2>&1 || { echo "go is needed to build versitygw" >&2; return 1; }
    mkdir -p "$BERTH_BIN_CACHE"
    local tmp start
    tmp=$(mktemp -d "$BERTH_BIN_CACHE/build.XXXXXX")
    start=$(date +%s)
    echo "building $VERSITYGW_MODULE@$VERSITYGW_VERSION (first run on this machine only)" >&2
    if ! GOBIN=$tmp GOFLAGS=-modcacherw go install "$VERSITYGW_MODULE@$VERSITYGW_VERSION" >&2; then
      rm -rf "$tmp"; return 1
    fi
    mv "$tmp/versitygw" "$bin" && rm -rf "$tmp"
    echo "built versitygw in $(( $(date +%s) - start ))s" >&2
  fi
  echo "$bin"
}

s3_start() {
  local bin; bin=$(s3_binary) || return 1
  S3_DIR=$(mktemp -d "${TMPDIR:-/tmp}/berth-s3.XXXXXX")
  mkdir -p "$S3_DIR/root" "$S3_DIR/meta"
  local port; port=$(_svc_free_port)
  local access secret
  access=berth$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  secret=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
  "$bin" --access "$access" --secret "$secret" --port "127.0.0.1:$port" --quiet --keep-alive \
    posix --sidecar "$S3_DIR/meta" "$S3_DIR/root" </dev/null >"$S3_DIR/s3.log" 2>&1 &
  S3_PID=$!
  local up=0
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then up=1; break; fi
    kill -0 "$S3_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$up" != 1 ]; then
    echo "versitygw did not start; its log:" >&2
    cat "$S3_DIR/s3.log" >&2
    s3_stop
    return 1
  fi
  export S3_ENDPOINT=http://127.0.0.1:$port S3_REGION=us-east-1 S3_BUCKET=berth-test
  export S3_ACCESS_KEY_ID=$access S3_SECRET_ACCESS_KEY=$secret S3_FORCE_PATH_STYLE=true
  if ! (cd "$BERTH_SERVICES_ROOT" && node -e '
      const { S3Client, CreateBucketCommand } = require("@aws-sdk/client-s3");
      const e = process.env;
      new S3Client({ endpoint: e.S3_ENDPOINT, region: e.S3_REGION, forcePathStyle: true,
        credentials: { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } })
        .send(new CreateBucketCommand({ Bucket: e.S3_BUCKET }))
        .catch((err) => { console.error("create bucket:", err.message); process.exit(1); });'); then
    cat "$S3_DIR/s3.log" >&2
    s3_stop
    return 1
  fi
}

s3_stop() {
  _svc_stop "${S3_PID:-}"
  S3_PID=
  if [ -n "${S3_DIR:-}" ]; then rm -rf "$S3_DIR"; fi
  S3_DIR=
}

# Prints the directory holding initdb and postgres: the newest Debian-installed version's
# (/usr/lib/postgresql/<ver>/bin, not on PATH), else whatever PATH has.
pg_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then echo "$dir"; return 0; fi
  done
  dir=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then echo "$dir"; return 0; fi
  return 1
}

pg_start() {
  if ! pg_bindir >/dev/null; then
    echo "installing postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq install postgresql >/dev/null ||
      { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq update &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq install postgresql >/dev/null; } || return 1
  fi
  local bin; bin=$(pg_bindir) || { echo "postgresql is installed but initdb/postgres were not found" >&2; return 1; }
  # PostgreSQL refuses to run as root: the cluster belongs to `nobody`, when we are root.
  local as=()
  if [ "$(id -u)" = 0 ]; then as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --); fi
  # The cluster's directory must be reachable by that user: a private TMPDIR (e.g. under /root) is not.
  local base=${TMPDIR:-/tmp}
  if [ ${#as[@]} -gt 0 ] && ! "${as[@]}" test -x "$base"; then base=/tmp; fi
  PG_DIR=$(mktemp -d "$base/berth-pg.XXXXXX")
  chmod 755 "$PG_DIR"
  mkdir -p "$PG_DIR/data" "$PG_DIR/socket"
  if [ "$(id -u)" = 0 ]; then chown nobody:nogroup "$PG_DIR/data" "$PG_DIR/socket"; fi
  if ! (cd "$PG_DIR" && "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U berth --auth=trust -E UTF8 --locale=C.UTF-8 \
      </dev/null >"$PG_DIR/initdb.log" 2>&1); then
    echo "initdb failed; its log:" >&2
    cat "$PG_DIR/initdb.log" >&2
    pg_stop
    return 1
  fi
  PG_PORT=$(_svc_free_port)
  PG_BIN=$bin
  if _pg_launch; then
    export DATABASE_URL=postgres://berth@127.0.0.1:$PG_PORT/postgres
    return 0
  fi
  echo "postgres did not start; its log:" >&2
  cat "$PG_DIR/postgres.log" >&2
  pg_stop
  return 1
}

# _pg_launch: runs the cluster in PG_DIR on PG_PORT, as pg_start prepared it; true once it answers.
_pg_launch() {
  local as=()
  if [ "$(id -u)" = 0 ]; then as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --); fi
  # Durability is not under test here: fsync off keeps the test database fast on a shared machine.
  (cd "$PG_DIR" && exec "${as[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$PG_DIR/socket" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=200 </dev/null >>"$PG_DIR/postgres.log" 2>&1) &
  PG_PID=$!
  _svc_wait_ready "$PG_PID" "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U berth -d postgres
}

# _pg_shutdown: fast shutdown of PG_PID (SIGINT: clients are disconnected; TERM would wait for them).
_pg_shutdown() {
  if [ -n "${PG_PID:-}" ] && kill -0 "$PG_PID" 2>/dev/null; then
    kill -CONT "$PG_PID" $(_pg_backends) 2>/dev/null || true   # a frozen server cannot shut down
    kill -INT "$PG_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  _svc_stop "${PG_PID:-}"
  PG_PID=
}

# The postmaster's children (backends and auxiliary processes), by parent PID.
_pg_backends() { [ -n "${PG_PID:-}" ] && ps -o pid= --ppid "$PG_PID" 2>/dev/null | tr -s ' \n' ' '; }

pg_down() { _pg_shutdown; }

pg_up() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] || { echo "pg_up: no cluster (pg_start first)" >&2; return 1; }
  _pg_launch || { echo "postgres did not restart; its log:" >&2; tail -n 20 "$PG_DIR/postgres.log" >&2; return 1; }
}

# Postmaster first, so it forks no new backend while they are being stopped; thawed in the reverse order.
pg_freeze() {
  [ -n "${PG_PID:-}" ] || return 1
  kill -STOP "$PG_PID" && kill -STOP $(_pg_backends) 2>/dev/null
  return 0
}

pg_thaw() {
  [ -n "${PG_PID:-}" ] || return 1
  kill -CONT $(_pg_backends) 2>/dev/null
  kill -CONT "$PG_PID"
}

pg_stop() {
  _pg_shutdown
  if [ -n "${PG_DIR:-}" ]; then rm -rf "$PG_DIR"; fi
  PG_DIR=
}
