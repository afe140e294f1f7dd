#!/usr/bin/env bash
# The ecosystem's clients against a running Berth with token auth (issue 11): one workflow script per
# client (oras, crane, regctl, helm, cosign, notation, devcontainer; versions: deletes and restores through GitHub's API
# with docker, cosign, crane, regctl and @octokit/rest; webhooks: docker pushes received by an @octokit/webhooks
# receiver; lifecycle: immutable tags seen by docker and skopeo, garbage collection under them), each checking
# results byte for byte.
# Builds the pinned Go tools that are not cached yet (tools.sh; ~/.cache/berth/bin), then runs every
# workflow and prints each one's lines and the totals.
#
#   conformance/clients/run.sh REGISTRY_HOSTPORT ADMIN_PASSWORD [DATA_DIR]
#
# Without DATA_DIR the workflows log in as admin and push under admin/. With the running Berth's
# DATA_DIR, a plain user is created with the berth CLI and every workflow runs as that user in their
# own namespace (the way a real user would).
# Prints `ok - CLIENT: NAME` / `not ok - CLIENT: NAME`, and ends with exactly `N passed, N failed`.
#
# Environment knobs (all optional):
#   CLIENTS_ONLY="crane oras"   subset of the workflows (default: all, fastest build first); an unknown name fails
#   BERTH_BIN_CACHE     where built tools are cached (default ~/.cache/berth/bin)
#   TMPDIR, KEEP_WORK=1, CLIENT_TIMEOUT   passed to each workflow (see lib.sh)
set -u
set -o pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ] || [ -z "$1" ] || [ -z "$2" ]; then
  echo "usage: $0 REGISTRY_HOSTPORT ADMIN_PASSWORD [DATA_DIR]   (e.g. 127.0.0.1:5000 secret ./data)" >&2
  exit 2
fi
REG=$1
ADMIN_PASSWORD=$2
case "$REG" in
  127.*|localhost:*|\[::1\]:*) ;;
  *) echo "refusing a non-loopback registry: $REG" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/tools.sh"
ALL="crane regctl oras notation helm cosign versions webhooks lifecycle devcontainer"
ONLY=${CLIENTS_ONLY:-$ALL}
# A list naming no client, or one this runner does not know, fails before anything runs.
for t in $ONLY; do
  case " $ALL " in *" $t "*) ;; *) echo "not ok - CLIENTS_ONLY: unknown client '$t' (known: $ALL)"; echo "0 passed, 1 failed"; exit 1 ;; esac
done
[ -n "${ONLY//[[:space:]]/}" ] || { echo "not ok - CLIENTS_ONLY='$CLIENTS_ONLY' names no client"; echo "0 passed, 1 failed"; exit 1; }

PASS=0
FAIL=0
START=$(date +%s)
ok()     { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }

# Build what is missing, one tool at a time (each `go install` already uses every core).
for t in $ONLY; do
  case $t in devcontainer | versions | webhooks | lifecycle) continue ;; esac   # workflows, not Go tools to build
  [ -x "$(tool_path "$t")" ] && continue
  if tool_install "$t"; then
    ok "build $t $(tool_version "$t") ($(cat "$(dirname "$(tool_path "$t")")/build-seconds")s)"
  else
    not_ok "build $t $(tool_version "$t")"
  fi
done
for t in $ONLY; do
  case $t in devcontainer | versions | webhooks | lifecycle) continue ;; esac   # workflows, not Go tools to build
  [ -x "$(tool_path "$t")" ] && echo "# $t $(tool_version "$t"): first build on this machine took $(cat "$(dirname "$(tool_path "$t")")/build-seconds" 2>/dev/null || echo '?')s"
done

# Who the workflows run as.
USER_NAME=admin USER_PASSWORD=$ADMIN_PASSWORD
if [ $# -eq 3 ]; then
  DATA_DIR=$(cd "$3" 2>/dev/null && pwd) || { echo "no such data directory: $3" >&2; exit 2; }
  USER_NAME=dev-$(date +%s)$$
  USER_PASSWORD=pw-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  if printf '%s\n' "$USER_PASSWORD" | timeout -k 10 60 env BERTH_DATA="$DATA_DIR" BERTH_LOG_LEVEL=warn \
      node "$REPO_ROOT/dist/cli.js" user add "$USER_NAME" --password-stdin >/dev/null; then
    ok "berth CLI: user $USER_NAME created; workflows push into $USER_NAME/"
  else
    not_ok "berth CLI: user add (falling back to admin)"
    USER_NAME=admin USER_PASSWORD=$ADMIN_PASSWORD
  fi
fi

for t in $ONLY; do
  script=$HERE/$t.sh
  [ -f "$script" ] || { not_ok "$t: no workflow script"; continue; }
  echo "=== $t"
  out=$(mktemp "${TMPDIR:-/tmp}/berth-clients-run.XXXXXX")
  # Each workflow bounds its own commands; this bounds the whole workflow.
  # The admin's password only for what needs a site administrator (lifecycle.sh's garbage collection).
  REG_ADMIN_PASSWORD=$ADMIN_PASSWORD timeout -k 20 "${WORKFLOW_TIMEOUT:-1200}" bash "$script" "$REG" "$USER_NAME" "$USER_PASSWORD" | tee "$out"
  rc=${PIPESTATUS[0]}
  totals=$(tail -n 1 "$out")
  rm -f "$out"
  if [[ "$totals" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    PASS=$((PASS + BASH_REMATCH[1])); FAIL=$((FAIL + BASH_REMATCH[2]))
    [ "$rc" -eq 0 ] || [ "${BASH_REMATCH[2]}" -gt 0 ] || not_ok "$t: exit status $rc"
  else
    not_ok "$t: workflow ended without totals (exit $rc)"
  fi
done
echo "# clients took $(( $(date +%s) - START ))s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
