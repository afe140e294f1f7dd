#!/usr/bin/env bash
# Retention policies with real clients (issue #22): the Docker engine pushes six tags of one package (v0.9.0,
# v1.0.0, v1.1.0, v2.0.0, v1.2.0, v1.3.0, in that order) and `dev`; a package policy keeps the 2 most recent v*, the
# highest semver tag, and excludes v1.0.*. A dry run through the API lists exactly v0.9.0 and v1.1.0 with why and
# deletes nothing (skopeo still inspects them); the real run deletes them: skopeo pulls every kept tag, docker
# pulls and runs the kept ones, the deleted tags answer 404 MANIFEST_UNKNOWN. A deleted version restored through
# GitHub's API (/api/v3) pulls again.
#
#   conformance/clients/retention.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
CLIENT_NAME=retention
. "$(dirname "$0")/lib.sh"
need_tool dockerd || finish
need_tool skopeo || finish
DOCKER=$(pick_docker_cli)
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { not_ok "busybox-static missing ($BUSYBOX)"; finish; }
PKG=retention-$RUNID
R=$REG/$NS/$PKG
PUSHED="v0.9.0 v1.0.0 v1.1.0 v2.0.0 v1.2.0 v1.3.0 dev"
KEPT="dev v1.0.0 v1.2.0 v1.3.0 v2.0.0"
DELETED="v0.9.0 v1.1.0"
api() { # api METHOD PATH [JSON]: Berth's own API as the workflow's user
  curl -fsS --max-time 60 -u "$REG_USER:$REG_PASSWORD" -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "http://$REG$2"
}
# GitHub's API addresses the caller's own packages under /user, an organisation's under /orgs/NAME.
if [ "$NS" = "$REG_USER" ]; then GH_OWNER=/user; else GH_OWNER=/orgs/$NS; fi
inspect_digest() { skopeo inspect --tls-verify=false --creds "$REG_USER:$REG_PASSWORD" --format '{{.Digest}}' "docker://$R:$1"; }

setup() {
  dk_start || return 1
  printf '%s\n' "$REG_PASSWORD" | dkr login "$REG" -u "$REG_USER" --password-stdin
}
# One offline busybox image per tag; a file in it names the tag, so what a pull brings back can be told apart.
push_tags() {
  local root=$WORK/rootfs tag
  mkdir -p "$root/bin"
  cp "$BUSYBOX" "$root/bin/busybox" && ln -sf busybox "$root/bin/sh" && ln -sf busybox "$root/bin/cat" || return 1
  for tag in $PUSHED; do
    echo "$tag $RUNID" >"$root/tag"
    tar -C "$root" -c . | dkr import - "$R:$tag" || return 1
    dkr push "$R:$tag" | tee "$WORK/push-$tag.out" || return 1
    printf -v "DIGEST_${tag//[.-]/_}" '%s' "$(push_digest "$WORK/push-$tag.out")"
  done
  eq "tags" "$(tr ' ' '\n' <<<"$PUSHED" | sort | tr '\n' ' ')" "$(reg_tags "$NS/$PKG" | sort | tr '\n' ' ')"
}
digest_of() { local v="DIGEST_${1//[.-]/_}"; echo "${!v}"; }
set_policy() {
  api PUT "/api/v1/packages/$NS/$PKG/retention-policy" \
    '{"keep_tagged":[{"pattern":"v*","count":2}],"keep_highest_semver":true,"exclude_tags":["v1.0.*"]}' >"$WORK/policy.json" || return 1
  jq -c . "$WORK/policy.json"
  eq "policy" "$NS/$PKG v*:2" "$(jq -r '"\(.package) \(.keep_tagged[0].pattern):\(.keep_tagged[0].count)"' "$WORK/policy.json")"
}
dry_run() {
  api POST "/api/v1/packages/$NS/$PKG/retention-runs?dry_run=true" >"$WORK/dry.json" || return 1
  jq -c '.packages[0].delete' "$WORK/dry.json"
  eq "would delete" "$DELETED" "$(jq -r '[.packages[0].delete[].tags[]] | sort | join(" ")' "$WORK/dry.json")" || return 1
  eq "why" "beyond the 2 most recent matching v*" "$(jq -r '[.packages[0].delete[].reason] | unique | join(";")' "$WORK/dry.json")" || return 1
  eq "why v2.0.0 stays" "highest semver tag v2.0.0" "$(jq -r '.packages[0].keep[] | select(.tags == ["v2.0.0"]) | .reason' "$WORK/dry.json")" || return 1
  eq "why v1.0.0 stays" "tag v1.0.0 matches excluded v1.0.*" "$(jq -r '.packages[0].keep[] | select(.tags == ["v1.0.0"]) | .reason' "$WORK/dry.json")" || return 1
  local tag
  for tag in $DELETED; do eq "skopeo inspect $tag after the dry run" "$(digest_of "$tag")" "$(inspect_digest "$tag")" || return 1; done
}
real_run() {
  api POST "/api/v1/packages/$NS/$PKG/retention-runs" >"$WORK/run.json" || return 1
  jq -c '{deleted, kept, failed}' "$WORK/run.json"
  eq "deleted, kept, failed" "2 5 0" "$(jq -r '"\(.deleted) \(.kept) \(.failed)"' "$WORK/run.json")" || return 1
  eq "tags left" "$KEPT" "$(reg_tags "$NS/$PKG" | sort | tr '\n' ' ' | sed 's/ $//')"
}
# A pull of each, not only its manifest: skopeo verifies every blob's digest as it copies.
kept_pulled() {
  local tag
  for tag in $KEPT; do
    skopeo copy --src-tls-verify=false --src-creds "$REG_USER:$REG_PASSWORD" "docker://$R:$tag" "dir:$WORK/kept-$tag" >/dev/null || return 1
    eq "skopeo copy $tag: the manifest pushed" "$(digest_of "$tag")" "sha256:$(sha256 <"$WORK/kept-$tag/manifest.json")" || return 1
  done
}
kept_pull() {
  local tag
  for tag in v2.0.0 v1.0.0 v1.3.0; do
    dkr rmi "$R:$tag" >/dev/null 2>&1
    dkr pull "$R:$tag" || return 1
    eq "the $tag image came" "$tag $RUNID" "$(dkr run --rm --network none "$R:$tag" cat /tag)" || return 1
  done
}
deleted_gone() {
  local tag
  for tag in $DELETED; do
    eq "$tag" "404 MANIFEST_UNKNOWN" "$(reg_answer "$NS/$PKG" "manifests/$tag")" || return 1
    fails_with "manifest unknown" skopeo inspect --tls-verify=false --creds "$REG_USER:$REG_PASSWORD" "docker://$R:$tag" || return 1
  done
}
restored() {
  local id
  id=$(jq -r '.packages[0].delete[] | select(.tags == ["v1.1.0"]) | .id' "$WORK/run.json")
  [ -n "$id" ] || { echo "no id for v1.1.0 in the run's answer"; return 1; }
  curl -fsS --max-time 60 -u "$REG_USER:$REG_PASSWORD" -X POST -o /dev/null -w '%{http_code}\n' \
    "http://$REG/api/v3$GH_OWNER/packages/container/$PKG/versions/$id/restore" | grep -qx 204 || return 1
  eq "skopeo inspect v1.1.0 restored" "$(digest_of v1.1.0)" "$(inspect_digest v1.1.0)" || return 1
  dkr rmi "$R:v1.1.0" >/dev/null 2>&1
  dkr pull "$R:v1.1.0" && eq "the v1.1.0 image came" "v1.1.0 $RUNID" "$(dkr run --rm --network none "$R:v1.1.0" cat /tag)"
}

check "setup: private dockerd, docker login" setup || finish
check "docker: push $PUSHED" push_tags || finish
check "PUT a package retention policy: keep 2 most recent v*, the highest semver, exclude v1.0.*" set_policy || finish
check "dry run (API): would delete $DELETED, with why; skopeo still inspects them" dry_run
check "real run (API): deletes 2, keeps 5; tags left $KEPT" real_run || finish
check "skopeo copy (a pull, every blob verified): every kept tag, the manifest pushed" kept_pulled
check "docker pull + run: kept v2.0.0, v1.0.0, v1.3.0" kept_pull
check "deleted tags: 404 MANIFEST_UNKNOWN; skopeo: manifest unknown" deleted_gone
check "restored through GitHub's API: skopeo inspects and docker pulls v1.1.0 again" restored
finish
