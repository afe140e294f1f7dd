#!/usr/bin/env bash
# Three Berth replicas on one host, sharing their state, behind no balancer: the client
# spreads one chunked upload over them itself.
#
#   scaled out:  Redis (sessions), one S3 bucket (blobs), one SQLite file (WAL) for the index
#   postgres:    each replica with a BERTH_DATA of its own, nothing shared on disk: PostgreSQL
#                (DATABASE_URL, a server of this run's own), Redis, S3
#   embedded:    the default, three processes on one BERTH_DATA (fs blobs, SQLite sessions)
#
# For each: a ~64 MiB blob is pushed in 8 MiB chunks round-robin (POST on A, PATCH on B, C,
# A, ...); one replica is killed with SIGKILL while a slow client is half-way through a PATCH
# to it; it is restarted on the same address and data; the upload's status is read through
# it, the upload resumed from the offset it reports and finished (PUT) through it; the blob is
# pulled from another replica and digests compared; a manifest pushed on one replica is pulled
# by tag from the other two. The postgres variant then restarts PostgreSQL in the middle of a
# series of pushes (/readyz 503 while it is down, 200 after; every tag that got 201 resolves with its
# blobs on every replica; pushes refused with 503 succeed when retried) and freezes it (SIGSTOP) for
# 5 s under load (every answer 2xx or 503 within a bound, the longest printed; all recovers after
# SIGCONT), and checks no replica wrote anything but its log under its BERTH_DATA. Then nothing may be left behind: no upload sessions (Redis keys or
# SQLite rows), no staged multipart uploads or upload objects in S3, no staged upload files.
#
#   conformance/scale-out/replicas.sh     (uses REDIS_URL / S3_* when set, else starts both;
#                                          REPLICAS_VARIANTS="scaled_out on_postgres embedded" picks variants;
#                                          KEEP_WORK=1 keeps the work directory, logs included)
set -uo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$REPO_ROOT/conformance/scale-out
. "$REPO_ROOT/conformance/lib.sh"
. "$REPO_ROOT/conformance/services.sh"

BLOB_MIB=${REPLICAS_BLOB_MIB:-64}
CHUNK_MIB=${REPLICAS_CHUNK_MIB:-8}
VICTIM=2   # replica C; killed during its 2nd chunk (the 5th PATCH), with 32 MiB staged by all three

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-replicas.XXXXXX")
PIDS=(); URLS=(); PORTS=()
own_services=0
stop_replicas() {
  local pid
  for pid in "${PIDS[@]}"; do
    [ -n "$pid" ] || continue
    BERTH_PID=$pid berth_stop
  done
  PIDS=()
}
cleanup() {
  stop_replicas
  if [ "$own_services" = 1 ]; then s3_stop; redis_stop; fi
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${REDIS_URL:-}" ] || [ -z "${S3_ENDPOINT:-}" ]; then
  own_services=1
  redis_start || { echo "cannot start redis-server"; exit 1; }
  s3_start || { echo "cannot start the S3 server"; exit 1; }
fi

# lib.sh's berth_start picks a free port; a restarted replica must get its old one back,
# so the ports are chosen here, up front, and handed to it through free_port.
pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
NEXT_PORT=
free_port() { echo "$NEXT_PORT"; }

# Replica I's data directory: DATA itself, or DATA/replica-I when SEPARATE_DATA=1 (nothing shared on disk).
SEPARATE_DATA=0
replica_data() { if [ "$SEPARATE_DATA" = 1 ]; then echo "$2/replica-$1"; else echo "$2"; fi; }

# start_replica I DATA [env...]: starts replica I on PORTS[I], records its PID and URL.
start_replica() {
  local i=$1 data; data=$(replica_data "$1" "$2"); shift 2
  NEXT_PORT=${PORTS[$i]}
  berth_start "$data" BERTH_AUTH=none "$@" || return 1
  PIDS[$i]=$BERTH_PID; URLS[$i]=$BERTH_URL
  BERTH_PID=   # the replicas are stopped by stop_replicas, from PIDS
}

# run_variant NAME DATA [env...]: the whole scenario on three replicas started with that env.
run_variant() {
  local name=$1 data=$2; shift 2
  local i started
  PORTS=("$(pick_port)" "$(pick_port)" "$(pick_port)")
  for i in 0 1 2; do start_replica "$i" "$data" "$@" || return 1; done
  echo "[$name] replicas: ${URLS[*]} (pids ${PIDS[*]}), data $data"
  started=$(date +%s.%N)
  node "$HERE/replica-client.mjs" push-until-kill "$work/$name.state" "$BLOB_MIB" "$CHUNK_MIB" \
    "${URLS[0]}" "${URLS[1]}" "${URLS[2]}" "$VICTIM" "${PIDS[$VICTIM]}" || return 1
  # The victim is gone (SIGKILL from the client); reap it, then restart it on its old port and data.
  wait "${PIDS[$VICTIM]}" 2>/dev/null
  if kill -0 "${PIDS[$VICTIM]}" 2>/dev/null; then echo "[$name] replica $VICTIM survived SIGKILL"; return 1; fi
  PIDS[$VICTIM]=
  start_replica "$VICTIM" "$data" "$@" || return 1
  echo "[$name] replica $VICTIM restarted on ${URLS[$VICTIM]} (pid ${PIDS[$VICTIM]})"
  local figures
  figures=$(node "$HERE/replica-client.mjs" resume "$work/$name.state" "${URLS[0]}" "${URLS[1]}" "${URLS[2]}") || return 1
  echo "[$name] $figures"
  echo "[$name] wall time: $(python3 -c "import sys; print(round($(date +%s.%N) - $started, 2))") s"
  replicas_healthy "$name" "$data"
}

# replicas_healthy NAME DATA: every replica alive, no error (level 50) in any log.
replicas_healthy() {
  local name=$1 data=$2 i log
  for i in 0 1 2; do
    log=$(replica_data "$i" "$data")/berth.log
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then echo "[$name] replica $i died; log:"; tail -n 30 "$log"; return 1; fi
    if grep -q '"level":50' "$log"; then
      echo "[$name] errors in replica $i's log:"; grep '"level":50' "$log" | tail -n 5; return 1
    fi
  done
}

scaled_out() {
  local data=$work/scaled-out
  local redis_url=${REDIS_URL%/}/7   # a database of its own: the leak check counts only this run's keys
  local prefix=replicas-$$/
  mkdir -p "$data"
  printf '{"s3":{"prefix":"%s"}}\n' "$prefix" >"$work/scaled-out.json"
  run_variant scaled-out "$data" BERTH_CONFIG="$work/scaled-out.json" REDIS_URL="$redis_url" \
    S3_BUCKET="$S3_BUCKET" S3_ENDPOINT="$S3_ENDPOINT" S3_REGION="$S3_REGION" S3_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID" \
    S3_SECRET_ACCESS_KEY="$S3_SECRET_ACCESS_KEY" S3_FORCE_PATH_STYLE=true || { stop_replicas; return 1; }
  stop_replicas
  local ok=0
  nothing_left_in_redis_and_s3 scaled-out "$redis_url" "$prefix" || ok=1
  local on_disk; on_disk=$(find "$data" -path '*/storage/*' -type f | wc -l)
  [ "$on_disk" -eq 0 ] || { echo "[scaled-out] $on_disk blob files on local disk"; ok=1; }
  return $ok
}

# nothing_left_in_redis_and_s3 NAME REDIS_URL S3_PREFIX: no upload sessions, locks or staged uploads; flushes the database.
nothing_left_in_redis_and_s3() {
  local name=$1 redis_url=$2 prefix=$3 ok=0 sessions locks zset staged
  sessions=$(redis-cli -u "$redis_url" --scan --pattern 'berth:upload:*' | wc -l)
  locks=$(redis-cli -u "$redis_url" --scan --pattern 'berth:lock:*' | wc -l)
  zset=$(redis-cli -u "$redis_url" zcard berth:uploads:updated)
  staged=$(cd "$REPO_ROOT" && node "$HERE/staged-uploads.mjs" "$prefix") || return 1
  echo "[$name] left behind: redis sessions=$sessions locks=$locks index=$zset; s3 $staged"
  [ "$sessions" -eq 0 ] && [ "$locks" -eq 0 ] && [ "$zset" -eq 0 ] || ok=1
  [ "$staged" = "multipart=0 objects=0" ] || ok=1
  redis-cli -u "$redis_url" flushdb >/dev/null
  return $ok
}

# readyz_all: the /readyz status of each replica, space-separated (000 when it did not answer in 10 s).
readyz_all() {
  local i codes=()
  for i in 0 1 2; do codes+=("$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${URLS[$i]}/readyz")"); done
  echo "${codes[*]}"
}

# wait_for_file_count FILE N BOUND_S: until FILE holds a number >= N (the client's progress); false after BOUND_S.
wait_for_file_count() {
  local deadline=$(( $(date +%s) + $3 ))
  local n
  while n=$(cat "$1" 2>/dev/null); [ "${n:-0}" -lt "$2" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# (b) PostgreSQL restarted in the middle of a series of pushes.
pg_restart_mid_series() {
  local progress=$work/series.progress stop=$work/series.stop client codes started seen
  node "$HERE/pg-fault-client.mjs" push-series "$progress" "$stop" "${URLS[@]}" &
  client=$!
  wait_for_file_count "$progress" 4 60 || { echo "[postgres] the series did not start"; kill "$client"; return 1; }
  pg_down
  seen=$(cat "$progress")
  codes=$(readyz_all)
  echo "[postgres] PostgreSQL down after push $seen; /readyz: $codes"
  [ "$codes" = "503 503 503" ] || { echo "[postgres] /readyz should answer 503 while PostgreSQL is down"; kill "$client"; return 1; }
  sleep 2
  pg_up || { kill "$client"; return 1; }
  started=$(date +%s.%N)
  until [ "$(readyz_all)" = "200 200 200" ]; do
    if python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $started > 20 else 1)"; then
      echo "[postgres] /readyz not 200 20 s after PostgreSQL came back: $(readyz_all)"; kill "$client"; return 1
    fi
    sleep 0.2
  done
  echo "[postgres] PostgreSQL back (pid $PG_PID); all replicas ready after $(python3 -c "print(round($(date +%s.%N) - $started, 2))") s"
  wait_for_file_count "$progress" $((seen + 4)) 60 || { echo "[postgres] the series stalled after the restart"; kill "$client"; return 1; }
  touch "$stop"
  wait "$client" || return 1
}

# (c) PostgreSQL frozen (SIGSTOP of the postmaster and its backends) for 5 s under load.
pg_frozen_under_load() {
  local client
  # The bound on any one answer: a few seconds (TIMEOUTS in src/persistence/postgres-database.ts), with slack.
  node "$HERE/pg-fault-client.mjs" requests-while-frozen 12 8000 "${URLS[@]}" &
  client=$!
  sleep 3
  pg_freeze
  echo "[postgres] PostgreSQL frozen (SIGSTOP) for 5 s"
  sleep 5
  pg_thaw
  wait "$client"
}

# Nothing of the registry's under a replica's BERTH_DATA: its log only (no SQLite file, no blob files).
nothing_on_local_disk() { only_logs_under "$1" | sed 's/^/[postgres] /'; }

on_postgres() {
  local data=$work/postgres
  local redis_url=${REDIS_URL%/}/8   # a database of its own, as scaled_out's
  local prefix=replicas-pg-$$/
  # A PostgreSQL of this variant's own: it is stopped and frozen here.
  pg_start || { echo "[postgres] cannot start PostgreSQL"; return 1; }
  trap 'stop_replicas; pg_stop' EXIT
  echo "[postgres] PostgreSQL $DATABASE_URL (pid $PG_PID)"
  mkdir -p "$data"
  printf '{"s3":{"prefix":"%s"}}\n' "$prefix" >"$work/postgres.json"
  SEPARATE_DATA=1
  local env=(BERTH_CONFIG="$work/postgres.json" DATABASE_URL="$DATABASE_URL" REDIS_URL="$redis_url"
    S3_BUCKET="$S3_BUCKET" S3_ENDPOINT="$S3_ENDPOINT" S3_REGION="$S3_REGION" S3_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID"
    S3_SECRET_ACCESS_KEY="$S3_SECRET_ACCESS_KEY" S3_FORCE_PATH_STYLE=true)
  run_variant postgres "$data" "${env[@]}" || return 1
  pg_restart_mid_series || return 1
  pg_frozen_under_load || return 1
  replicas_healthy postgres "$data" || return 1
  stop_replicas
  local ok=0
  nothing_left_in_redis_and_s3 postgres "$redis_url" "$prefix" || ok=1
  nothing_on_local_disk "$data" || ok=1
  return $ok
}

embedded() {
  local data=$work/embedded
  mkdir -p "$data"
  run_variant embedded "$data" || { stop_replicas; return 1; }
  stop_replicas
  local sessions staged
  [ -d "$data/storage/uploads" ] || { echo "[embedded] no $data/storage: the replicas did not use the embedded default"; return 1; }
  sessions=$(cd "$REPO_ROOT" && node -e '
    const db = new (require("better-sqlite3"))(process.argv[1], { readonly: true });
    console.log(db.prepare("SELECT count(*) AS n FROM upload_sessions").get().n);' "$data/berth.db") || return 1
  staged=$(find "$data/storage/uploads" -mindepth 1 | wc -l)
  echo "[embedded] left behind: upload sessions=$sessions, staged upload files=$staged"
  [ "$sessions" -eq 0 ] && [ "$staged" -eq 0 ]
}

# Each variant in a subshell of its own: it stops its replicas on exit (by PID), and the embedded
# one must not inherit the Redis and S3 settings.
status=0
for variant in ${REPLICAS_VARIANTS:-scaled_out on_postgres embedded}; do
  case $variant in
    scaled_out) echo "--- three replicas: Redis sessions, S3 blobs, one SQLite index" ;;
    on_postgres) echo "--- three replicas, nothing shared on disk: PostgreSQL, Redis, S3; PostgreSQL restarted and frozen" ;;
    embedded) echo "--- three replicas: embedded default, one BERTH_DATA (fs blobs, SQLite sessions)" ;;
    *) echo "unknown variant $variant"; status=1; continue ;;
  esac
  (
    trap stop_replicas EXIT
    trap 'exit 130' INT TERM
    [ "$variant" = embedded ] && unset REDIS_URL S3_BUCKET S3_ENDPOINT S3_REGION S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY S3_FORCE_PATH_STYLE S3_REDIRECT
    "$variant"
  ) || status=1
done
exit $status
