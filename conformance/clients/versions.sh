#!/usr/bin/env bash
# Versions, deletes and restores with real clients (issue #15): the Docker engine pushes two platform images and
# a manifest list over them (`docker manifest push`), cosign signs the list in both of its modes, regctl and crane
# delete single tags, and a cleanup job written against @octokit/rest the way the popular GHCR cleanup actions are
# (every untagged version deleted) runs against GitHub's API at /api/v3. Afterwards the image still pulls on both
# platforms and still verifies; a deleted version stops pulling by digest and pulls again once restored. Then the
# signed list is promoted to another registry (a loopback CNCF Distribution 2.8.2, Debian's docker-registry):
# skopeo reads the same digest there and cosign verifies the signature there.
#
#   conformance/clients/versions.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
CLIENT_NAME=versions
. "$(dirname "$0")/lib.sh"
REPO_ROOT=$(cd "$CLIENTS_DIR/../.." && pwd)
COSIGN=$(need cosign)
CRANE=$(need crane)
REGCTL=$(need regctl)
cosign() { bounded "$COSIGN" "$@"; }
crane() { bounded "$CRANE" --insecure "$@"; }
regctl() { bounded "$REGCTL" "$@"; }
need_tool dockerd || finish
DOCKER=$(pick_docker_cli)
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { not_ok "busybox-static missing ($BUSYBOX)"; finish; }
export COSIGN_PASSWORD="" COSIGN_YES=true TUF_ROOT=$WORK/home/.sigstore/root
SIGN_FLAGS=(--tlog-upload=false --allow-http-registry)
VERIFY_FLAGS=(--insecure-ignore-tlog=true --insecure-ignore-sct=true --allow-http-registry)
PKG=versions-$RUNID   # the package's name under its owner, as GitHub's API names it
R=$REG/$NS/$PKG
API=http://$REG/api/v3
cleanup_job() { GITHUB_TOKEN=$PAT bounded node "$CLIENTS_DIR/octokit-cleanup.mjs" "$@"; }

setup() {
  dk_start || return 1
  printf '%s\n' "$REG_PASSWORD" | dkr login "$REG" -u "$REG_USER" --password-stdin || return 1
  regctl registry set --tls disabled "$REG" && regctl registry login "$REG" -u "$REG_USER" -p "$REG_PASSWORD" || return 1
  crane auth login "$REG" -u "$REG_USER" -p "$REG_PASSWORD" || return 1
  cosign login "$REG" -u "$REG_USER" -p "$REG_PASSWORD" || return 1
  (cd "$WORK" && cosign generate-key-pair) || return 1
  PAT=$(curl -fsS --max-time 30 -u "$REG_USER:$REG_PASSWORD" -H 'Content-Type: application/json' \
    -d '{"name":"cleanup job","scopes":["delete:packages"]}' "http://$REG/api/v1/tokens" | jq -r .token) || return 1
  [ -n "$PAT" ] && [ "$PAT" != null ]
}

# Two platform images from one offline busybox root (a file says which platform), pushed by the engine.
push_platforms() {
  local root=$WORK/rootfs arch
  mkdir -p "$root/bin"
  cp "$BUSYBOX" "$root/bin/busybox" && ln -sf busybox "$root/bin/sh" && ln -sf busybox "$root/bin/cat" || return 1
  for arch in amd64 arm64; do
    echo "$arch $RUNID" >"$root/platform"
    tar -C "$root" -c . | dkr import --platform "linux/$arch" - "$R:$arch" || return 1
    dkr push "$R:$arch" | tee "$WORK/push-$arch.out" || return 1
    printf -v "DIGEST_${arch^^}" '%s' "$(push_digest "$WORK/push-$arch.out")"
  done
  [ -n "$DIGEST_AMD64" ] && [ -n "$DIGEST_ARM64" ] && [ "$DIGEST_AMD64" != "$DIGEST_ARM64" ]
}
push_list() {
  dkr manifest create --insecure "$R:v1" "$R@$DIGEST_AMD64" "$R@$DIGEST_ARM64" || return 1
  dkr manifest annotate "$R:v1" "$R@$DIGEST_ARM64" --os linux --arch arm64 || return 1
  dkr manifest push --insecure "$R:v1" | tee "$WORK/push-list.out" || return 1
  LIST_DIGEST=$(tail -n 1 "$WORK/push-list.out")
  eq "manifest list digest" "$LIST_DIGEST" "$(reg_digest "$NS/$PKG" v1)" || return 1
  eq "platforms" "amd64 arm64" "$(reg_manifest "$NS/$PKG" v1 | jq -r '[.manifests[].platform.architecture] | sort | join(" ")')"
}
# A second tag on the list, and single-tag deletes: crane the extra tag, regctl the platforms' own tags (what a
# buildx push leaves: platform images no tag names).
delete_tags() {
  crane tag "$R:v1" latest || return 1
  eq "latest names the list" "$LIST_DIGEST" "$(crane digest "$R:latest")" || return 1
  crane delete "$R:latest" || return 1
  eq "v1 after crane deleted latest" "$LIST_DIGEST" "$(crane digest "$R:v1")" || return 1
  eq "latest after its delete" "404 MANIFEST_UNKNOWN" "$(reg_answer "$NS/$PKG" manifests/latest)" || return 1
  regctl tag delete "$R:amd64" && regctl tag delete "$R:arm64" || return 1
  eq "tags left" "v1" "$(reg_tags "$NS/$PKG" | tr '\n' ' ' | sed 's/ $//')"
}
sign_both_modes() {
  cosign sign --key "$WORK/cosign.key" "${SIGN_FLAGS[@]}" "$R@$LIST_DIGEST" || return 1
  COSIGN_EXPERIMENTAL=1 cosign sign --key "$WORK/cosign.key" "${SIGN_FLAGS[@]}" --registry-referrers-mode=oci-1-1 "$R@$LIST_DIGEST" || return 1
  eq "signature among the referrers" 1 "$(reg_referrers "$NS/$PKG" "$LIST_DIGEST" application/vnd.dev.cosign.artifact.sig.v1+json | jq '.manifests | length')"
}
# A leftover: `old` pushed twice, so its first image is untagged and in nothing: what a cleanup job is for.
push_leftover() {
  local root=$WORK/old n
  mkdir -p "$root"
  for n in 1 2; do
    echo "old $n $RUNID" >"$root/file"
    tar -C "$root" -c . | dkr import - "$R:old" || return 1
    dkr push "$R:old" | tee "$WORK/push-old-$n.out" || return 1
  done
  LEFTOVER=$(push_digest "$WORK/push-old-1.out")
  [ -n "$LEFTOVER" ] && [ "$LEFTOVER" != "$(push_digest "$WORK/push-old-2.out")" ]
}
run_cleanup_job() {
  cleanup_job cleanup "$API" "$PKG" >"$WORK/cleanup.json" || return 1
  jq . "$WORK/cleanup.json"
  eq "deleted" "$LEFTOVER" "$(jq -r '[.deleted[].name] | join(" ")' "$WORK/cleanup.json")" || return 1
  # Refused, each 422 naming what it belongs to: the platforms (in the tagged list) and the OCI 1.1 signature.
  eq "refused" "3 x 422" "$(jq -r '"\(.refused | length) x \([.refused[].status] | unique | join(","))"' "$WORK/cleanup.json")" || return 1
  eq "refusals name the list" 3 "$(jq --arg d "$LIST_DIGEST" '[.refused[] | select(.message | contains($d))] | length' "$WORK/cleanup.json")" || return 1
  eq "kept (tagged)" "old sha256-${LIST_DIGEST#sha256:}.sig v1" "$(jq -r '[.kept[].tags[]] | sort | join(" ")' "$WORK/cleanup.json")"
}
# `docker import --platform` labels the list entry only (the engine keeps its own architecture in the config), and
# both images hold amd64 busybox: which platform image came is read from the file each one carries.
pulls_both_platforms() {
  local arch
  dkr rmi "$R:amd64" "$R:arm64" >/dev/null 2>&1
  for arch in amd64 arm64; do
    dkr pull --platform "linux/$arch" "$R:v1" || return 1
    eq "the $arch image came" "$arch $RUNID" "$(dkr run --rm --network none "$R:v1" cat /platform)" || return 1
    dkr rmi "$R:v1" >/dev/null || return 1
  done
}
still_verifies() {
  cosign verify --key "$WORK/cosign.pub" "${VERIFY_FLAGS[@]}" "$R:v1" >"$WORK/verify.json" || return 1
  eq "tag mode: verified digest" "$LIST_DIGEST" "$(jq -r '.[0].critical.image["docker-manifest-digest"]' "$WORK/verify.json")" || return 1
  # cosign's OCI 1.1 path falls back to the tag scheme on any error: the registry's own referrers answer says the
  # signature is still there, then cosign verifies through it.
  eq "signature still among the referrers" 1 "$(reg_referrers "$NS/$PKG" "$LIST_DIGEST" application/vnd.dev.cosign.artifact.sig.v1+json | jq '.manifests | length')" || return 1
  COSIGN_EXPERIMENTAL=1 cosign verify --key "$WORK/cosign.pub" "${VERIFY_FLAGS[@]}" --experimental-oci11 "$R:v1" >/dev/null
}
# Another registry on loopback (the Berth under test allows it: BERTH_PROMOTION_ALLOWED_HOSTS=127.0.0.1).
promote_to_distribution() {
  local port=$((20000 + RANDOM % 20000)) i
  cat >"$WORK/d2.yml" <<YML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $WORK/d2}}
http: {addr: 127.0.0.1:$port}
YML
  # Distribution reads REGISTRY_* variables as its settings (REGISTRY_AUTH_FILE would be its auth file): none of ours.
  env -u REGISTRY_AUTH_FILE docker-registry serve "$WORK/d2.yml" >>"$LOG" 2>&1 &
  BG_PIDS="$BG_PIDS $!"
  for i in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.2; done
  curl -fsS --max-time 300 -u "$REG_USER:$REG_PASSWORD" -H 'Content-Type: application/json' \
    -d "{\"source\":\"v1\",\"target\":\"http://127.0.0.1:$port/promoted/$PKG:v1\",\"referrers\":true}" \
    "http://$REG/api/v1/packages/$NS/$PKG/promote" >"$WORK/promoted.json" || { cat "$WORK/promoted.json"; return 1; }
  jq -c . "$WORK/promoted.json"
  eq "promoted digest" "$LIST_DIGEST" "$(jq -r .digest "$WORK/promoted.json")" || return 1
  eq "skopeo inspect --raw there: the same digest" "$LIST_DIGEST" \
    "sha256:$(skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$port/promoted/$PKG:v1" | sha256)" || return 1
  cosign verify --key "$WORK/cosign.pub" "${VERIFY_FLAGS[@]}" "127.0.0.1:$port/promoted/$PKG:v1" >"$WORK/verify-d2.json" || return 1
  eq "cosign verify there: the digest" "$LIST_DIGEST" "$(jq -r '.[0].critical.image["docker-manifest-digest"]' "$WORK/verify-d2.json")"
}
deleted_then_restored() {
  fails_with "manifest unknown" dkr pull "$R@$LEFTOVER" || return 1
  local id
  id=$(cleanup_job find "$API" "$PKG" "$LEFTOVER" | jq -r 'select(.state == "deleted") | .id') || return 1
  [ -n "$id" ] || { echo "the deleted version is not listed with state=deleted"; return 1; }
  eq "restore" '{"status":204}' "$(cleanup_job restore "$API" "$PKG" "$id")" || return 1
  dkr pull "$R@$LEFTOVER" || return 1
  eq "RepoDigests" "$R@$LEFTOVER" "$(dkr image inspect --format '{{join .RepoDigests " "}}' "$R@$LEFTOVER")"
}

check "setup: private dockerd, logins (docker, regctl, crane, cosign), a cosign key pair, a PAT with delete:packages" setup || finish
check "docker: import and push a linux/amd64 and a linux/arm64 image" push_platforms || finish
check "docker manifest push: a manifest list over both, tagged v1" push_list || finish
check "crane deletes the tag latest alone (v1, same digest, still resolves); regctl deletes the platforms' tags" delete_tags
check "cosign signs the list in tag mode and in OCI 1.1 referrers mode" sign_both_modes || finish
check "docker: a leftover image, untagged by a later push" push_leftover || finish
check "octokit cleanup job (delete every untagged version): the leftover goes; platforms and signature get 422" run_cleanup_job
check "after the cleanup: docker pulls v1 on linux/amd64 and linux/arm64" pulls_both_platforms
check "after the cleanup: cosign verifies v1 in both modes" still_verifies
check "docker pull by digest of the deleted version: manifest unknown; restored through octokit, it pulls" deleted_then_restored
check "promotion of the signed list to a loopback Distribution 2.8.2: skopeo sees its digest, cosign verifies it there" promote_to_distribution
finish
