#!/usr/bin/env bash
# Everything that runs against a live Berth: the official OCI suite, Berth's
# own end-to-end checks and the real clients. Starts its own Berth on a free
# loopback port with a fresh data directory, and stops it on exit, failure
# included. Prints each part's result and a closing count of parts.
set -uo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO_ROOT/conformance/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-conformance.XXXXXX")
cleanup() { berth_stop; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM


# The default configuration: token auth on, the suite logs in as the admin user.
admin_password=conformance-$RANDOM$RANDOM
# The suite's repositories (conformance/*) may hold sparse manifests, for its optional-features run.
# Webhooks may reach the clients' receiver on loopback (conformance/clients/webhooks.sh).
berth_start "$work/auth" BERTH_ADMIN_PASSWORD="$admin_password" BERTH_SPARSE_MANIFESTS='conformance/*' \
  BERTH_WEBHOOK_ALLOWED_HOSTS=127.0.0.1 BERTH_PROMOTION_ALLOWED_HOSTS=127.0.0.1 || exit 1
echo "Berth (token auth) under test: $BERTH_URL (pid $BERTH_PID)"
part "official OCI conformance suites (current generation, and with every optional feature; v1.1.1 where ../shared has it), token auth (admin credentials)" \
  env OCI_USERNAME=admin OCI_PASSWORD="$admin_password" OCI_OPTIONAL_FEATURES=1 bash "$REPO_ROOT/conformance/official/run.sh" token "$BERTH_URL"
part "real clients through token auth (docker login, skopeo, podman; official suite as a non-admin user)" \
  bash "$REPO_ROOT/conformance/clients-auth/run.sh" "$BERTH_HOSTPORT" "$admin_password" "$work/auth"
part "ecosystem clients through token auth (crane, regctl, oras, notation, helm, cosign, dev container CLI)" \
  bash "$REPO_ROOT/conformance/clients/run.sh" "$BERTH_HOSTPORT" "$admin_password" "$work/auth"
berth_stop

# Open mode (BERTH_AUTH=none) for the registry-API checks that do not log in.
berth_start "$work/data" BERTH_AUTH=none BERTH_SPARSE_MANIFESTS='conformance/*' || exit 1
echo "Berth (open mode) under test: $BERTH_URL (pid $BERTH_PID)"

part "official OCI conformance suites (current generation, and with every optional feature; v1.1.1 where ../shared has it), open mode" \
  env OCI_OPTIONAL_FEATURES=1 bash "$REPO_ROOT/conformance/official/run.sh" open "$BERTH_URL"
part "Berth end-to-end checks" env BERTH_E2E_URL="$BERTH_URL" npx --no-install jest -c "$REPO_ROOT/conformance/e2e/jest.config.js"
part "real clients (docker, skopeo, podman, buildah)" bash "$REPO_ROOT/conformance/clients-core/run.sh" "$BERTH_HOSTPORT"

part "web pages in a real browser: chromium + axe-core over Docker, skopeo, cosign and oras pushes (its own Berth)" bash "$REPO_ROOT/conformance/web/run.sh"
part "2 GiB blob in one PATCH, and a 2 GiB archive import: peak RSS under 250 MiB (their own Berths)" bash "$REPO_ROOT/conformance/memory/run.sh"
part "scale-out: PostgreSQL stores + Redis sessions + S3 blobs, official suite and real clients, open and token auth (its own Berths)" bash "$REPO_ROOT/conformance/scale-out/run.sh"
part "pull-through cache: upstream Distribution 2.8.2; docker and podman pull through it, also with the upstream stopped; 32 concurrent pulls of one uncached 256 MiB blob, one upstream GET (its own Berth, two workers)" bash "$REPO_ROOT/conformance/proxy/run.sh"
part "quotas: the Docker engine and skopeo print Berth's byte and version refusals, pass once raised; berth quota verify (its own Berth)" bash "$REPO_ROOT/conformance/quotas/run.sh"
part "Berth's Dockerfile: built by a private Docker engine on a local Debian base, run, pushed to, restarted (its own container)" bash "$REPO_ROOT/conformance/docker-image/run.sh"

if ! kill -0 "$BERTH_PID" 2>/dev/null; then
  echo "Berth died during the run; its log:"; tail -n 50 "$work/data/berth.log"; failed=$((failed + 1))
fi
# Every `part` above, counted: one more or one fewer part means this number changes with it.
parts_summary conformance 12
