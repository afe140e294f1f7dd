# Shared by the conformance scripts: start and stop a Berth process on a free
# loopback port with its own data directory. Source it; call `berth_start`,
# and `berth_stop` from your EXIT trap.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# berth_start DATA_DIR [extra env assignments...] — sets BERTH_PID, BERTH_URL, BERTH_HOSTPORT.
berth_start() {
  local data=$1; shift
  local port; port=$(free_port)
  BERTH_HOSTPORT=127.0.0.1:$port
  BERTH_URL=http://$BERTH_HOSTPORT
  mkdir -p "$data"
  env BERTH_ADDR="$BERTH_HOSTPORT" BERTH_DATA="$data" BERTH_LOG_LEVEL="${BERTH_LOG_LEVEL:-warn}" "$@" \
    node "$REPO_ROOT/dist/cli.js" serve >>"$data/berth.log" 2>&1 &
  BERTH_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS "$BERTH_URL/healthz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$BERTH_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "Berth did not start; its log:" >&2
  cat "$data/berth.log" >&2
  return 1
}

berth_stop() {
  if [ -n "${BERTH_PID:-}" ] && kill -0 "$BERTH_PID" 2>/dev/null; then
    kill -TERM "$BERTH_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$BERTH_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BERTH_PID" 2>/dev/null || true
    wait "$BERTH_PID" 2>/dev/null || true
  fi
  BERTH_PID=
}

# only_logs_under DATA: true when nothing but berth.log files is under a Berth's data directory (every
# store on PostgreSQL, blobs in S3: no SQLite file, no blob files); prints what else it finds.
only_logs_under() {
  local files
  files=$(find "$1" -type f ! -name berth.log)
  [ -z "$files" ] || { echo "files under $1: $(echo "$files" | head -n 5 | tr '\n' ' ')"; return 1; }
  echo "under $1: $(find "$1" -type f | wc -l) log file(s), nothing else"
}

# part NAME CMD...: runs one part of a conformance run, counting it in $passed / $failed, and prints its wall time.
# A part whose script is missing fails like any other (bash and npx exit non-zero): never guard
# a `part` with `if [ -f ... ]`, the closing count would silently shrink.
passed=0 failed=0 parts_ran=0
part() {
  local name=$1; shift
  parts_ran=$((parts_ran + 1))
  echo "=== $name"
  # Each part's wall time, so what a part adds to the whole CI run (bounded at 45 min) stays visible.
  local started=$SECONDS
  if "$@"; then passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - started)) s)"
  else failed=$((failed + 1)); echo "=== $name: FAILED ($((SECONDS - started)) s)"; fi
}

# parts_summary LABEL EXPECTED: the closing `LABEL: N passed, N failed` line. Succeeds only when
# nothing failed and exactly EXPECTED parts ran: a run that stopped early, or a `part` added or
# removed without updating the count its script declares, is a failure, not a shorter green run.
parts_summary() {
  local label=$1 expected=$2
  if [ "$parts_ran" -ne "$expected" ]; then
    echo "$label: $parts_ran parts ran, $expected expected"
    [ "$parts_ran" -lt "$expected" ] && failed=$((failed + expected - parts_ran))
    [ "$parts_ran" -gt "$expected" ] && failed=$((failed + 1))
  fi
  echo "$label: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
