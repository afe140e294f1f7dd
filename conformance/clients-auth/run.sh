#!/usr/bin/env bash
# Real clients through Berth's token auth (issue 8): the Docker engine, skopeo and podman log in,
# push and pull private packages through the bearer flow, anonymous access is limited to public
# packages, and the official OCI suite passes with credentials (the admin, and a plain user in
# their own namespace). Runs against an already-running Berth with auth on, on loopback.
#
#   conformance/clients-auth/run.sh 127.0.0.1:5000 ADMIN_PASSWORD DATA_DIR
#
# DATA_DIR is the running Berth's data directory: fixtures (users, an org, a source repository,
# a PAT, a CI token, package visibility) are made with the `berth` CLI on the same database (the
# SQLite file there, or the PostgreSQL of DATABASE_URL when the caller sets it as the Berth's).
# Prints `ok - NAME` / `not ok - NAME` per check (diagnostics on `#` lines) and ends with exactly
# `N passed, N failed`. Exit status 0 only when nothing failed.
#
# Environment knobs (all optional):
#   ONLY=...        space-separated subset of the workflows "skopeo podman docker official" (default:
#                   all); an unknown name fails the run (as in clients-core/run.sh)
#   BERTH_CLI       the berth CLI entry point (default: dist/cli.js of this checkout)
#   TMPDIR          where the scratch dir goes (default /tmp); KEEP_WORK=1 keeps it (log.txt inside)
#   CLIENT_TIMEOUT  seconds any one client command may take (default 180)
#   DOCKER_CLI      docker client binary; BUSYBOX static busybox for the base image (/bin/busybox)
set -u
set -o pipefail

if [ $# -ne 3 ] || [ -z "$1" ] || [ -z "$2" ] || [ -z "$3" ]; then
  echo "usage: $0 REGISTRY_HOSTPORT ADMIN_PASSWORD DATA_DIR   (e.g. 127.0.0.1:5000 secret ./data)" >&2
  exit 2
fi
REG=$1
ADMIN_PASSWORD=$2
DATA_DIR=$(cd "$3" 2>/dev/null && pwd) || { echo "no such data directory: $3" >&2; exit 2; }
case "$REG" in
  127.*|localhost:*|\[::1\]:*) ;;
  *) echo "refusing a non-loopback registry: $REG" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
BERTH_CLI=${BERTH_CLI:-$REPO_ROOT/dist/cli.js}

. "$REPO_ROOT/conformance/clients-lib.sh"
clients_workspace berth-clients-auth
select_workflows skopeo podman docker official

berth()   { timeout -k 10 60 env BERTH_DATA="$DATA_DIR" BERTH_LOG_LEVEL=warn node "$BERTH_CLI" "$@"; }

# ---------------------------------------------------------------------------
# Per-run names and client configuration
# ---------------------------------------------------------------------------
RUNID="$(date +%s)$$"
randpw() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
U="alice-$RUNID"; UPW="pw-$(randpw)"        # owns the private packages
O="mallory-$RUNID"; OPW="pw-$(randpw)"      # signed in, unrelated
ORG="acme-$RUNID"
PAT=""; CI=""
echo "# registry $REG, data $DATA_DIR, users $U and $O, work dir $WORK"

containers_config "$REG"

# ---------------------------------------------------------------------------
# Fixtures through the berth CLI (the management contract); without it, the client
# workflows still run as the admin user and the checks that need fixtures fail.
# ---------------------------------------------------------------------------
HAVE_FIXTURES=0
make_fixtures() {
  [ -f "$BERTH_CLI" ] || { echo "no berth CLI at $BERTH_CLI (npm run build)"; return 1; }
  printf '%s\n' "$UPW" | berth user add "$U" --password-stdin || return 1
  printf '%s\n' "$OPW" | berth user add "$O" --password-stdin || return 1
  berth org create "$ORG" --owner "$U" || return 1
  berth org member "$ORG" "$O" --role member || return 1
  berth repo create "$U/app" --visibility private || return 1
  PAT=$(berth token create --user "$U" --scopes read:packages,write:packages) || return 1
  CI=$(berth ci-token create --repo "$U/app") || return 1
  [[ "$PAT" =~ ^[A-Za-z0-9_-]+$ ]] || { echo "token create printed more than a token: [$PAT]"; return 1; }
  [[ "$CI" =~ ^[A-Za-z0-9_-]+$ ]] || { echo "ci-token create printed more than a token: [$CI]"; return 1; }
}

# ---------------------------------------------------------------------------
# A test image written by hand as an OCI layout (as conformance/clients-core does)
# ---------------------------------------------------------------------------
LAYOUT=$WORK/layouts/single
put_blob() {
  local layout=$1 file=$2 mt=$3 dg size
  dg=$(sha256 <"$file"); size=$(stat -c %s "$file")
  mkdir -p "$layout/blobs/sha256"
  cp "$file" "$layout/blobs/sha256/$dg"
  jq -cn --arg mt "$mt" --arg dg "sha256:$dg" --argjson size "$size" '{mediaType:$mt, digest:$dg, size:$size}'
}
build_test_image() {
  local tmp=$WORK/mk layer config m
  mkdir -p "$tmp/root"
  printf 'hello from berth clients-auth %s\n' "$RUNID" >"$tmp/root/hello.txt"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/root" -cf "$tmp/layer.tar" . || return 1
  gzip -n -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
  layer=$(put_blob "$LAYOUT" "$tmp/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)
  jq -cn --arg diff "sha256:$(sha256 <"$tmp/layer.tar")" '{created: "2024-01-01T00:00:00Z", architecture: "amd64", os: "linux",
      config: {Cmd: ["/hello.txt"]}, rootfs: {type: "layers", diff_ids: [$diff]}}' >"$tmp/config.json"
  config=$(put_blob "$LAYOUT" "$tmp/config.json" application/vnd.oci.image.config.v1+json)
  jq -cn --argjson c "$config" --argjson l "$layer" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: [$l]}' >"$tmp/manifest.json"
  m=$(put_blob "$LAYOUT" "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json)
  IMAGE_DIGEST=$(jq -r .digest <<<"$m")
  echo '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
  jq -n --argjson d "$m" '{schemaVersion: 2, manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": "v1"}}]}' >"$LAYOUT/index.json"
  echo "image $IMAGE_DIGEST"
}

# Digest of the manifest at docker://REF, read with the given skopeo credential flags.
raw_digest() { local ref=$1; shift; skopeo inspect --raw --tls-verify=false "$@" "docker://$ref" | sha256 | sed 's/^/sha256:/'; }

# ---------------------------------------------------------------------------
# skopeo
# ---------------------------------------------------------------------------
sk_push_anonymous_refused() {
  refused skopeo copy --dest-tls-verify=false --dest-no-creds "oci:$LAYOUT:v1" "docker://$REG/$U/sk-private:v1"
}
sk_push_dest_creds() {
  skopeo copy --dest-tls-verify=false --dest-creds "$U:$UPW" "oci:$LAYOUT:v1" "docker://$REG/$U/sk-private:v1" || return 1
  eq "digest" "$IMAGE_DIGEST" "$(raw_digest "$REG/$U/sk-private:v1" --creds "$U:$UPW")"
}
sk_pull_src_creds() {
  mkdir -p "$WORK/back"
  skopeo copy --src-tls-verify=false --src-creds "$U:$UPW" "docker://$REG/$U/sk-private:v1" "oci:$WORK/back/sk:v1" || return 1
  eq "digest pulled back" "$IMAGE_DIGEST" "$(jq -r '.manifests[0].digest' "$WORK/back/sk/index.json")"
}
sk_inspect_private_anonymous_refused() {
  refused skopeo inspect --tls-verify=false --no-creds "docker://$REG/$U/sk-private:v1"
}
sk_inspect_private_outsider_refused() {
  refused skopeo inspect --tls-verify=false --creds "$O:$OPW" "docker://$REG/$U/sk-private:v1"
}
sk_inspect_public_anonymous() {
  skopeo copy --dest-tls-verify=false --dest-creds "$U:$UPW" "oci:$LAYOUT:v1" "docker://$REG/$U/sk-public:v1" || return 1
  berth package visibility "$U/sk-public" public || return 1
  local j
  j=$(skopeo inspect --tls-verify=false --no-creds "docker://$REG/$U/sk-public:v1") || return 1
  eq "Digest" "$IMAGE_DIGEST" "$(jq -r .Digest <<<"$j")"
}
sk_login_wrong_password_refused() {
  # containers/image's words for a 401 to the credentials it was given.
  local q='\\?"'   # a double quote, which logrus escapes
  fails_with "logging into $q$REG$q: invalid username/password" skopeo login --tls-verify=false -u "$U" -p "not-$UPW" "$REG"
}
sk_login_inspect_logout() {
  printf '%s' "$UPW" | skopeo login --tls-verify=false -u "$U" --password-stdin "$REG" || return 1
  eq "digest with the stored login" "$IMAGE_DIGEST" "$(raw_digest "$REG/$U/sk-private:v1")" || return 1
  skopeo logout "$REG" || return 1
  refused skopeo inspect --tls-verify=false "docker://$REG/$U/sk-private:v1"
}
sk_pat_creds() {
  skopeo copy --dest-tls-verify=false --dest-creds "$U:$PAT" "oci:$LAYOUT:v1" "docker://$REG/$U/sk-pat:v1" || return 1
  eq "digest read with the PAT" "$IMAGE_DIGEST" "$(raw_digest "$REG/$U/sk-pat:v1" --creds "$U:$PAT")"
}
sk_ci_token() {
  # A CI token's first push into its repository owner's namespace creates a package linked to that
  # (private) repository: pushable and readable with the CI token, refused to the outsider.
  skopeo copy --dest-tls-verify=false --dest-creds "ci:$CI" "oci:$LAYOUT:v1" "docker://$REG/$U/ci-built:v1" || return 1
  eq "digest read with the CI token" "$IMAGE_DIGEST" "$(raw_digest "$REG/$U/ci-built:v1" --creds "ci:$CI")" || return 1
  refused skopeo inspect --tls-verify=false --creds "$O:$OPW" "docker://$REG/$U/ci-built:v1" || return 1
  # Outside its repository: no push into another namespace, nor into the owner's unlinked packages.
  refused skopeo copy --dest-tls-verify=false --dest-creds "ci:$CI" "oci:$LAYOUT:v1" "docker://$REG/$O/ci-outside:v1" || return 1
  refused skopeo copy --dest-tls-verify=false --dest-creds "ci:$CI" "oci:$LAYOUT:v1" "docker://$REG/$U/sk-private:v2"
}
sk_org_member_push() {
  # An org member may create packages in the org's namespace.
  skopeo copy --dest-tls-verify=false --dest-creds "$O:$OPW" "oci:$LAYOUT:v1" "docker://$REG/$ORG/by-member:v1" || return 1
  eq "digest" "$IMAGE_DIGEST" "$(raw_digest "$REG/$ORG/by-member:v1" --creds "$U:$UPW")"
}

workflow_skopeo() {
  check "skopeo: anonymous push to a private namespace is refused" sk_push_anonymous_refused
  check "skopeo: copy --dest-creds pushes a private package" sk_push_dest_creds || return 0
  check "skopeo: copy --src-creds pulls it back, same digest" sk_pull_src_creds
  check "skopeo: anonymous inspect of the private package is refused" sk_inspect_private_anonymous_refused
  check "skopeo: login with a wrong password is refused" sk_login_wrong_password_refused
  check "skopeo: login, inspect with the stored credentials, logout, then refused" sk_login_inspect_logout
  if [ "$HAVE_FIXTURES" = 1 ]; then
    check "skopeo: inspect of the private package by an unrelated user is refused" sk_inspect_private_outsider_refused
    check "skopeo: anonymous inspect of a public package" sk_inspect_public_anonymous
    check "skopeo: copy --dest-creds USER:PAT (write:packages)" sk_pat_creds
    check "skopeo: CI token pushes into its repository, and nowhere else" sk_ci_token
    check "skopeo: org member creates a package in the org namespace" sk_org_member_push
  else
    not_ok "skopeo: outsider, public package, PAT and CI token checks (need the berth CLI fixtures)"
  fi
}

# ---------------------------------------------------------------------------
# podman (vfs storage in $WORK)
# ---------------------------------------------------------------------------
pd_login() { printf '%s' "$UPW" | podman login --tls-verify=false -u "$U" --password-stdin "$REG"; }
pd_pull_private() {
  podman pull --tls-verify=false "$REG/$U/sk-private:v1" || return 1
  eq "Digest" "$IMAGE_DIGEST" "$(podman image inspect --format '{{.Digest}}' "$REG/$U/sk-private:v1")"
}
pd_push() {
  podman tag "$REG/$U/sk-private:v1" "$REG/$U/podman-pushed:v1" || return 1
  podman push --tls-verify=false --digestfile "$WORK/podman.digest" "$REG/$U/podman-pushed:v1" || return 1
  eq "registry digest vs podman --digestfile" "$(cat "$WORK/podman.digest")" "$(raw_digest "$REG/$U/podman-pushed:v1" --creds "$U:$UPW")" || return 1
  refused skopeo inspect --tls-verify=false --no-creds "docker://$REG/$U/podman-pushed:v1"
}
pd_logout_refused() {
  podman logout "$REG" || return 1
  podman rmi -f "$REG/$U/sk-private:v1" "$REG/$U/podman-pushed:v1" >/dev/null || return 1
  refused podman pull --tls-verify=false "$REG/$U/sk-private:v1"
}
workflow_podman() {
  check "podman: login --password-stdin" pd_login || return 0
  check "podman: pull of the private package" pd_pull_private || return 0
  check "podman: push a new private package" pd_push
  check "podman: after logout, pull of the private package is refused" pd_logout_refused
}

# ---------------------------------------------------------------------------
# Docker engine: a private dockerd (vfs, no iptables, no bridge) in $WORK/d; loopback is insecure.
# ---------------------------------------------------------------------------
dk_login_wrong_password_refused() {
  printf '%s' "not-$UPW" | refused dkr login "$REG" -u "$U" --password-stdin
}
dk_login_password() { printf '%s' "$UPW" | dkr login "$REG" -u "$U" --password-stdin; }
dk_push_private() {
  dkr tag local/base:1 "$REG/$U/dk-private:1" || return 1
  dkr push "$REG/$U/dk-private:1" | tee "$WORK/push.out" || return 1
  DK_DIGEST=$(push_digest "$WORK/push.out")
  [ -n "$DK_DIGEST" ] || { echo "no digest in docker push output"; return 1; }
  eq "registry digest vs docker push" "$DK_DIGEST" "$(raw_digest "$REG/$U/dk-private:1" --creds "$U:$UPW")" || return 1
  # A first push makes a private package.
  refused skopeo inspect --tls-verify=false --no-creds "docker://$REG/$U/dk-private:1"
}
dk_pull_private() {
  dkr rmi "$REG/$U/dk-private:1" || return 1
  dkr pull "$REG/$U/dk-private:1" || return 1
  eq "RepoDigests" "$REG/$U/dk-private@$DK_DIGEST" "$(dkr image inspect --format '{{join .RepoDigests " "}}' "$REG/$U/dk-private:1")"
}
dk_logout_pull_refused() {
  dkr logout "$REG" || return 1
  dkr rmi "$REG/$U/dk-private:1" || return 1
  refused dkr pull "$REG/$U/dk-private:1"
}
dk_login_pat() {
  printf '%s' "$PAT" | dkr login "$REG" -u "$U" --password-stdin || return 1
  dkr pull "$REG/$U/dk-private:1" || return 1
  dkr tag "$REG/$U/dk-private:1" "$REG/$U/dk-private:pat" || return 1
  dkr push "$REG/$U/dk-private:pat" || return 1
  eq "digest pushed with the PAT" "$DK_DIGEST" "$(raw_digest "$REG/$U/dk-private:pat" --creds "$U:$UPW")" || return 1
  dkr logout "$REG"
}
dk_outsider_refused() {
  printf '%s' "$OPW" | dkr login "$REG" -u "$O" --password-stdin || return 1
  dkr rmi "$REG/$U/dk-private:1" "$REG/$U/dk-private:pat" >/dev/null 2>&1
  refused dkr pull "$REG/$U/dk-private:1" || return 1
  dkr tag local/base:1 "$REG/$U/dk-intruder:1" || return 1
  refused dkr push "$REG/$U/dk-intruder:1" || return 1
  dkr logout "$REG"
}
workflow_docker() {
  local have=1
  need_tool dockerd || have=0
  DOCKER=$(pick_docker_cli)
  [ -n "$DOCKER" ] || { not_ok "docker missing"; have=0; }
  BUSYBOX=${BUSYBOX:-/bin/busybox}
  [ -x "$BUSYBOX" ] || { not_ok "busybox-static missing ($BUSYBOX)"; have=0; }
  [ $have = 1 ] || return 0
  echo "# docker CLI: $DOCKER"
  check "docker: private dockerd starts (vfs, no iptables, no bridge)" dk_start || return 0
  check "docker: import busybox base image offline" dk_import_base || { stop_dockerd; return 0; }
  check "docker: login with a wrong password is refused" dk_login_wrong_password_refused
  check "docker: login with a password (--password-stdin)" dk_login_password || { stop_dockerd; return 0; }
  check "docker: push a private package" dk_push_private || { stop_dockerd; return 0; }
  check "docker: rmi and pull the private package back" dk_pull_private
  check "docker: after logout, pull of the private package is refused" dk_logout_pull_refused
  if [ "$HAVE_FIXTURES" = 1 ]; then
    check "docker: login with a PAT (--password-stdin), pull and push" dk_login_pat
    check "docker: an unrelated user is refused pull and push" dk_outsider_refused
  else
    not_ok "docker: PAT and outsider checks (need the berth CLI fixtures)"
  fi
  stop_dockerd
}

# ---------------------------------------------------------------------------
# The official OCI suite with credentials: the admin, and a plain user in their own namespace.
# ---------------------------------------------------------------------------
official_admin() {
  timeout -k 10 900 env OCI_USERNAME=admin OCI_PASSWORD="$ADMIN_PASSWORD" \
    OCI_NAMESPACE="conformance-$RUNID/a" OCI_CROSSMOUNT_NAMESPACE="conformance-$RUNID/b" \
    bash "$REPO_ROOT/conformance/official/run.sh" token "http://$REG"
}
official_user() {
  # The repositories under the user's namespace: OCI_NAMESPACE/OCI_CROSSMOUNT_NAMESPACE for the v1.1.1
  # suite, OCI_REPO1/OCI_REPO2 for the current generation (official/run.sh must pass them through).
  timeout -k 10 900 env OCI_USERNAME="$U" OCI_PASSWORD="$UPW" \
    OCI_NAMESPACE="$U/conformance" OCI_CROSSMOUNT_NAMESPACE="$U/crossmount" \
    OCI_REPO1="$U/conformance" OCI_REPO2="$U/crossmount" \
    bash "$REPO_ROOT/conformance/official/run.sh" token "http://$REG"
}
workflow_official() {
  check "official OCI suite, admin credentials" official_admin
  if [ "$HAVE_FIXTURES" = 1 ]; then
    check "official OCI suite, a non-admin user in their own namespace" official_user
  else
    not_ok "official OCI suite as a non-admin user (needs the berth CLI fixtures)"
  fi
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
need_tool curl || finish
need_tool jq || finish
challenge=$(curl -sS -o /dev/null -D - --max-time 5 "http://$REG/v2/" 2>>"$LOG" | tr -d '\r' | grep -i '^www-authenticate:' || true)
case "$challenge" in
  *Bearer*realm=*) ok "registry answers GET /v2/ with a Bearer challenge" ;;
  *) not_ok "registry answers GET /v2/ with a Bearer challenge (got: ${challenge:-nothing})"; finish ;;
esac
if check "berth CLI: users, org, source repository, PAT and CI token" make_fixtures; then
  HAVE_FIXTURES=1
else
  echo "# falling back to the admin user for the client workflows"
  U=admin; UPW=$ADMIN_PASSWORD
fi
check "test image: hand-written OCI layout" build_test_image || finish
need_tool skopeo || finish
selected skopeo && workflow_skopeo
# podman and docker pull what the skopeo workflow pushed; push it if that did not run.
if ! skopeo inspect --raw --tls-verify=false --creds "$U:$UPW" "docker://$REG/$U/sk-private:v1" >/dev/null 2>&1; then
  skopeo copy --dest-tls-verify=false --dest-creds "$U:$UPW" "oci:$LAYOUT:v1" "docker://$REG/$U/sk-private:v1" >>"$LOG" 2>&1
fi
selected podman && need_tool podman && workflow_podman
selected docker && workflow_docker
selected official && workflow_official
finish
