#!/usr/bin/env bash
# Storage lifecycle with real clients (issue #22): an immutable-tag rule seen by the Docker engine (a push of
# another image to a covered tag fails with the rule in its output; the same image pushed again succeeds) and by
# skopeo (deleting the tag's manifest is refused); then a garbage collection while the registry serves: the
# stray blob goes, and every kept image still copies whole with skopeo and pulls and runs with the engine.
#
#   conformance/clients/lifecycle.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment;
#   REG_ADMIN_PASSWORD: the admin's password, for the collection through POST /api/v1/admin/gc)
CLIENT_NAME=lifecycle
. "$(dirname "$0")/lib.sh"
need_tool dockerd || finish
need_tool skopeo || finish
DOCKER=$(pick_docker_cli)
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { not_ok "busybox-static missing ($BUSYBOX)"; finish; }
[ -n "${REG_ADMIN_PASSWORD:-}" ] || { not_ok "REG_ADMIN_PASSWORD is not set (clients/run.sh passes the admin's)"; finish; }
PKG=lifecycle-$RUNID
R=$REG/$NS/$PKG
CREDS=$REG_USER:$REG_PASSWORD

setup() {
  dk_start || return 1
  printf '%s\n' "$REG_PASSWORD" | dkr login "$REG" -u "$REG_USER" --password-stdin || return 1
  curl -fsS --max-time 30 -u "$CREDS" -H 'Content-Type: application/json' \
    -d "{\"package\":\"$NS/$PKG\",\"pattern\":\"v*\"}" "http://$REG/api/v1/immutable-tag-rules" >"$WORK/rule.json" || return 1
  jq -c . "$WORK/rule.json"
  # Each worker reads the rules through a cache of at most 5 s (README: immutable tags).
  sleep 6
}

# An image of one busybox root with a file saying which one it is, imported by the engine under TAG.
image() { # image NAME TAG
  local root=$WORK/root-$1
  mkdir -p "$root/bin"
  cp "$BUSYBOX" "$root/bin/busybox" && ln -sf busybox "$root/bin/sh" && ln -sf busybox "$root/bin/cat" || return 1
  echo "$1 $RUNID" >"$root/which"
  tar -C "$root" -c . | dkr import - "$2" >/dev/null
}

immutable_refused_by_engine() {
  image first "$R:v1" && dkr push "$R:v1" | tee "$WORK/push-first.out" || return 1
  FIRST=$(push_digest "$WORK/push-first.out")
  FIRST_ID=$(dkr image inspect --format '{{.Id}}' "$R:v1")
  [ -n "$FIRST" ] && [ -n "$FIRST_ID" ] || return 1
  image second "$R:v1" || return 1
  fails_with "DENIED|denied" dkr push "$R:v1" || return 1
  grep -q "immutable-tag rule $(jq -r .id "$WORK/rule.json") (package $NS/$PKG: v\*)" "$WORK/fails-with.out" ||
    { echo "the engine's output does not name the rule"; return 1; }
  eq "v1 still names the first image" "$FIRST" "$(reg_digest "$NS/$PKG" v1)"
}
same_image_again() {
  dkr tag "$FIRST_ID" "$R:v1" && dkr push "$R:v1" | tee "$WORK/push-again.out" || return 1
  eq "the same digest" "$FIRST" "$(push_digest "$WORK/push-again.out")"
}
delete_refused_for_skopeo() {
  fails_with "denied|DENIED" skopeo delete --tls-verify=false --creds "$CREDS" "docker://$R:v1" || return 1
  grep -q "immutable" "$WORK/fails-with.out" || { echo "skopeo's output does not say why"; return 1; }
  eq "v1 still names the first image" "$FIRST" "$(reg_digest "$NS/$PKG" v1)"
}

# What stays: v1, edge (moved once: its first image is an untagged version, restorable, so kept too).
push_the_rest() {
  image edge-1 "$R:edge" && dkr push "$R:edge" | tee "$WORK/push-edge-1.out" || return 1
  EDGE_OLD=$(push_digest "$WORK/push-edge-1.out")
  image edge-2 "$R:edge" && dkr push "$R:edge" | tee "$WORK/push-edge-2.out" || return 1
  EDGE=$(push_digest "$WORK/push-edge-2.out")
  [ -n "$EDGE_OLD" ] && [ -n "$EDGE" ] && [ "$EDGE_OLD" != "$EDGE" ]
}
# A blob no manifest names, pushed the one-request way: the garbage.
push_stray_blob() {
  local tok
  head -c 4096 /dev/urandom >"$WORK/stray" && STRAY=sha256:$(sha256 <"$WORK/stray")
  tok=$(reg_token "$NS/$PKG" pull,push)
  curl -fsS --max-time 60 -o /dev/null -H "Authorization: Bearer $tok" -H 'Content-Type: application/octet-stream' \
    --data-binary @"$WORK/stray" "http://$REG/v2/$NS/$PKG/blobs/uploads/?digest=$STRAY" || return 1
  eq "the stray blob before: HEAD" 200 "$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -I -H "Authorization: Bearer $tok" \
    "http://$REG/v2/$NS/$PKG/blobs/$STRAY")"
}
collect() {
  curl -fsS --max-time 300 -u "admin:$REG_ADMIN_PASSWORD" -H 'Content-Type: application/json' -d '{"grace_seconds":0}' \
    "http://$REG/api/v1/admin/gc" >"$WORK/gc.json" || return 1
  jq -c . "$WORK/gc.json"
  [ "$(jq .objects "$WORK/gc.json")" -ge 1 ] || { echo "the collection reclaimed nothing"; return 1; }
  eq "the stray blob after" "404 BLOB_UNKNOWN" "$(reg_answer "$NS/$PKG" "blobs/$STRAY")"
}
kept_images_whole() {
  local ref n=0
  for ref in "$R:v1" "$R:edge" "$R@$EDGE_OLD"; do
    n=$((n + 1))
    skopeo copy --src-tls-verify=false --src-creds "$CREDS" "docker://$ref" "dir:$WORK/copy-$n" >/dev/null || return 1
    # skopeo verified every blob's digest as it copied; the layer count says it got them all.
    eq "$ref: layers copied" 1 "$(jq '.layers | length' "$WORK/copy-$n/manifest.json")" || return 1
  done
  dkr rmi "$R:v1" "$R:edge" >/dev/null 2>&1
  dkr pull "$R:v1" >/dev/null && eq "v1 runs" "first $RUNID" "$(dkr run --rm --network none "$R:v1" cat /which)" || return 1
  dkr pull "$R:edge" >/dev/null && eq "edge runs" "edge-2 $RUNID" "$(dkr run --rm --network none "$R:edge" cat /which)"
}

check "setup: private dockerd, docker login, an immutable-tag rule (v*) on the package" setup || finish
check "docker push of another image to the immutable tag v1 fails, the engine printing the rule; v1 unchanged" immutable_refused_by_engine || finish
check "docker push of the same image to v1 again succeeds (a CI retry)" same_image_again
check "skopeo delete of v1 is refused naming the immutable tag; v1 unchanged" delete_refused_for_skopeo
check "docker pushes edge twice (the first image stays as an untagged version)" push_the_rest || finish
check "a stray blob no manifest names" push_stray_blob || finish
check "garbage collection (admin API, grace 0) reclaims the stray blob: 404 BLOB_UNKNOWN" collect
check "after the collection: skopeo copies v1, edge and the untagged image whole; docker pulls and runs v1 and edge" kept_images_whole
finish
