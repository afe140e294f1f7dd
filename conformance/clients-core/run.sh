#!/usr/bin/env bash
# Real-client interoperability runs: skopeo, umoci, buildah, podman and the Docker engine
# against an already-running registry on loopback, plain HTTP, no auth.
#
#   conformance/clients-core/run.sh 127.0.0.1:5000
#
# Prints `ok - NAME` / `not ok - NAME` per check (diagnostics on lines starting with `#`)
# and ends with `N passed, N failed`. Exit status 0 only when nothing failed.
#
# Environment knobs (all optional):
#   TMPDIR        where the scratch dir goes (default /tmp)
#   KEEP_WORK=1   keep the scratch dir (its log.txt holds every command's output)
#   ONLY=...      space-separated subset of the workflows "skopeo podman docker"; an unknown name fails
#                 the run (clients-auth/run.sh reads ONLY the same way, with "official" added)
#   DOCKER_CLI    docker client binary (default: the one shipped next to dockerd, see below)
#   BUSYBOX       static busybox for the Docker base image (default /bin/busybox, from busybox-static)
set -u
set -o pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 REGISTRY_HOSTPORT   (e.g. 127.0.0.1:5000)" >&2
  exit 2
fi
REG=$1

. "$(cd "$(dirname "$0")/.." && pwd)/clients-lib.sh"
clients_workspace berth-clients
select_workflows skopeo podman docker

# ---------------------------------------------------------------------------
# Per-run names. A fresh repository namespace and fresh layer content per run, so
# reruns against a registry that kept its data still upload every blob and start
# from empty tag lists.
# ---------------------------------------------------------------------------
RUNID="$(date +%s)-$$"
NS="cc-$RUNID"
R="$REG/$NS"            # repository prefix: $R/single, $R/multi, ...
echo "# registry $REG, repositories under $NS/, work dir $WORK"

containers_config "$REG"

# ---------------------------------------------------------------------------
# Test images, written by hand as OCI layouts (only tar, gzip, jq, sha256sum):
# deterministic bytes, so we know every digest before any client touches them.
# ---------------------------------------------------------------------------
LAYOUTS=$WORK/layouts

# put_blob LAYOUT FILE MEDIATYPE -> prints an OCI descriptor (JSON) and stores the blob
put_blob() {
  local layout=$1 file=$2 mt=$3 dg size
  dg=$(sha256 <"$file")
  size=$(stat -c %s "$file")
  mkdir -p "$layout/blobs/sha256"
  cp "$file" "$layout/blobs/sha256/$dg"
  jq -cn --arg mt "$mt" --arg dg "sha256:$dg" --argjson size "$size" \
    '{mediaType:$mt, digest:$dg, size:$size}'
}

# make_manifest LAYOUT ARCH TEXT -> prints the manifest descriptor (with platform)
# One gzip layer holding /hello.txt (TEXT) and /platform, plus an OCI config.
make_manifest() {
  local layout=$1 arch=$2 text=$3 tmp
  tmp=$(mktemp -d "$WORK/mk.XXXXXX")
  mkdir -p "$tmp/root"
  printf '%s\n' "$text" >"$tmp/root/hello.txt"
  printf 'linux/%s\n' "$arch" >"$tmp/root/platform"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/root" -cf "$tmp/layer.tar" . || return 1
  gzip -n -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
  local diffid layer config
  diffid=$(sha256 <"$tmp/layer.tar")
  layer=$(put_blob "$layout" "$tmp/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)
  jq -cn --arg arch "$arch" --arg diff "sha256:$diffid" '{
      created: "2024-01-01T00:00:00Z", architecture: $arch, os: "linux",
      config: {Cmd: ["/hello.txt"], Labels: {"org.example.test": "berth-clients-core"}},
      rootfs: {type: "layers", diff_ids: [$diff]},
      history: [{created: "2024-01-01T00:00:00Z", created_by: "run.sh make_manifest"}]
    }' >"$tmp/config.json"
  config=$(put_blob "$layout" "$tmp/config.json" application/vnd.oci.image.config.v1+json)
  jq -cn --argjson c "$config" --argjson l "$layer" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: [$l]}' \
    >"$tmp/manifest.json"
  put_blob "$layout" "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json |
    jq -c --arg arch "$arch" '. + {platform: {architecture: $arch, os: "linux"}}'
  rm -rf "$tmp"
}

# write_index LAYOUT TAG DESCRIPTOR -> index.json naming DESCRIPTOR as TAG
write_index() {
  echo '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
  jq -n --arg tag "$2" --argjson d "$3" '{schemaVersion: 2,
      manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": $tag}}]}' >"$1/index.json"
}

build_test_images() {
  local d
  # single: one amd64 manifest
  d=$(make_manifest "$LAYOUTS/single" amd64 "hello from berth clients-core $RUNID") || return 1
  SINGLE_DIGEST=$(jq -r .digest <<<"$d")
  write_index "$LAYOUTS/single" v1 "$(jq -c 'del(.platform)' <<<"$d")"

  # multi: an image index with amd64 and arm64 children, each with its own layer content
  local amd arm idx
  amd=$(make_manifest "$LAYOUTS/multi" amd64 "multi amd64 $RUNID") || return 1
  arm=$(make_manifest "$LAYOUTS/multi" arm64 "multi arm64 $RUNID") || return 1
  MULTI_AMD64=$(jq -r .digest <<<"$amd")
  MULTI_ARM64=$(jq -r .digest <<<"$arm")
  MULTI_AMD64_LAYER=$(jq -r '.layers[0].digest' "$LAYOUTS/multi/blobs/sha256/${MULTI_AMD64#sha256:}")
  MULTI_ARM64_CONFIG=$(jq -r '.config.digest' "$LAYOUTS/multi/blobs/sha256/${MULTI_ARM64#sha256:}")
  MULTI_ARM64_LAYER=$(jq -r '.layers[0].digest' "$LAYOUTS/multi/blobs/sha256/${MULTI_ARM64#sha256:}")
  jq -cn --argjson a "$amd" --argjson b "$arm" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [$a, $b]}' >"$WORK/idx.json"
  idx=$(put_blob "$LAYOUTS/multi" "$WORK/idx.json" application/vnd.oci.image.index.v1+json)
  MULTI_DIGEST=$(jq -r .digest <<<"$idx")
  write_index "$LAYOUTS/multi" v1 "$idx"
  echo "single=$SINGLE_DIGEST multi=$MULTI_DIGEST amd64=$MULTI_AMD64 arm64=$MULTI_ARM64"
}

# The podman and docker workflows read the two-platform index; when run without the
# skopeo workflow (ONLY=...), push it first.
ensure_multi() {
  skopeo inspect --raw --tls-verify=false "docker://$R/multi:v1" >/dev/null 2>&1 && return 0
  skopeo copy --all --dest-tls-verify=false "oci:$LAYOUTS/multi:v1" "docker://$R/multi:v1" >>"$LOG" 2>&1
}

ensure_multi_docker() {
  skopeo inspect --raw --tls-verify=false "docker://$R/multi-docker:v1" >/dev/null 2>&1 && return 0
  skopeo copy --all --format v2s2 --dest-tls-verify=false "oci:$LAYOUTS/multi:v1" "docker://$R/multi-docker:v1"
}

# manifest_unknown REF: skopeo's lookup of REF (docker://...) fails with the registry's MANIFEST_UNKNOWN.
manifest_unknown() { fails_with "reading manifest .*: manifest unknown" skopeo inspect --raw --tls-verify=false "docker://$1"; }
# Digest of the manifest the registry serves for REF (docker://...), from the raw bytes.
raw_digest() { skopeo inspect --raw --tls-verify=false "docker://$1" | sha256 | sed 's/^/sha256:/'; }
# Digest of the manifest tagged TAG in an OCI layout.
layout_digest() { jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' "$1/index.json"; }

# ---------------------------------------------------------------------------
# skopeo workflow (and umoci to look inside what came back)
# ---------------------------------------------------------------------------
sk_push_single() {
  skopeo copy --dest-tls-verify=false "oci:$LAYOUTS/single:v1" "docker://$R/single:v1" || return 1
  eq "raw digest of pushed manifest" "$SINGLE_DIGEST" "$(raw_digest "$R/single:v1")"
}
sk_push_index() {
  skopeo copy --all --dest-tls-verify=false "oci:$LAYOUTS/multi:v1" "docker://$R/multi:v1" || return 1
  local raw
  # Digest from the piped bytes: $(...) would strip a trailing newline and change it.
  eq "raw digest of pushed index" "$MULTI_DIGEST" "$(raw_digest "$R/multi:v1")" || return 1
  raw=$(skopeo inspect --raw --tls-verify=false "docker://$R/multi:v1") || return 1
  eq "index mediaType" application/vnd.oci.image.index.v1+json "$(jq -r .mediaType <<<"$raw")" || return 1
  eq "children" "$MULTI_AMD64 $MULTI_ARM64" "$(jq -r '[.manifests[].digest]|join(" ")' <<<"$raw")"
}
sk_pull_single() {
  mkdir -p "$WORK/back"
  skopeo copy --src-tls-verify=false "docker://$R/single:v1" "oci:$WORK/back/single:v1" || return 1
  eq "digest pulled back" "$SINGLE_DIGEST" "$(layout_digest "$WORK/back/single" v1)"
}
sk_umoci_content() {
  # Digests say the bytes survived; unpacking shows the layer is a usable filesystem.
  umoci raw unpack --image "$WORK/back/single:v1" "$WORK/back/single-rootfs" || return 1
  eq "/hello.txt" "hello from berth clients-core $RUNID" "$(cat "$WORK/back/single-rootfs/hello.txt")"
}
sk_pull_index() {
  mkdir -p "$WORK/back"
  skopeo copy --all --src-tls-verify=false "docker://$R/multi:v1" "oci:$WORK/back/multi:v1" || return 1
  eq "index digest pulled back" "$MULTI_DIGEST" "$(layout_digest "$WORK/back/multi" v1)" || return 1
  local c
  for c in "$MULTI_AMD64" "$MULTI_ARM64"; do  # both children and their blobs came along, intact
    [ "sha256:$(sha256 <"$WORK/back/multi/blobs/sha256/${c#sha256:}")" = "$c" ] || { echo "child $c missing or corrupt"; return 1; }
  done
}
sk_inspect_single() {
  local j
  j=$(skopeo inspect --tls-verify=false "docker://$R/single:v1") || return 1
  eq Digest "$SINGLE_DIGEST" "$(jq -r .Digest <<<"$j")" || return 1
  eq Architecture amd64 "$(jq -r .Architecture <<<"$j")" || return 1
  eq Labels berth-clients-core "$(jq -r '.Labels["org.example.test"]' <<<"$j")"
}
sk_inspect_by_digest() {
  eq "raw digest by digest ref" "$SINGLE_DIGEST" "$(raw_digest "$R/single@$SINGLE_DIGEST")"
}
sk_inspect_arch() {
  # Non-raw inspect of an index resolves to one child; the override picks which.
  local j
  j=$(skopeo inspect --tls-verify=false --override-os linux --override-arch arm64 "docker://$R/multi:v1") || return 1
  # .Digest stays the index's own digest; the child is recognised by its layer.
  eq "arm64 Architecture" arm64 "$(jq -r .Architecture <<<"$j")" || return 1
  eq "Digest (of the index)" "$MULTI_DIGEST" "$(jq -r .Digest <<<"$j")" || return 1
  eq "arm64 child layer" "$MULTI_ARM64_LAYER" "$(jq -r '.Layers|join(" ")' <<<"$j")" || return 1
  j=$(skopeo inspect --tls-verify=false --override-os linux --override-arch amd64 "docker://$R/multi:v1") || return 1
  eq "amd64 Architecture" amd64 "$(jq -r .Architecture <<<"$j")" || return 1
  eq "amd64 child layer" "$MULTI_AMD64_LAYER" "$(jq -r '.Layers|join(" ")' <<<"$j")"
}
sk_copy_within() {
  # registry -> registry: second tag in the same repo (blobs already there) and a
  # copy into another repo (skopeo tries a cross-repository blob mount first).
  skopeo copy --src-tls-verify=false --dest-tls-verify=false "docker://$R/single:v1" "docker://$R/single:v2" || return 1
  skopeo copy --src-tls-verify=false --dest-tls-verify=false "docker://$R/single:v1" "docker://$R/copy:v1" || return 1
  eq "v2 digest" "$SINGLE_DIGEST" "$(raw_digest "$R/single:v2")" || return 1
  eq "other repo digest" "$SINGLE_DIGEST" "$(raw_digest "$R/copy:v1")"
}
sk_v2s2() {
  # Converted on the way: the registry must store and serve Docker schema2 as-is.
  skopeo copy --format v2s2 --dest-tls-verify=false "oci:$LAYOUTS/single:v1" "docker://$R/single:keep" || return 1
  local raw
  raw=$(skopeo inspect --raw --tls-verify=false "docker://$R/single:keep") || return 1
  eq mediaType application/vnd.docker.distribution.manifest.v2+json "$(jq -r .mediaType <<<"$raw")" || return 1
  eq "config mediaType" application/vnd.docker.container.image.v1+json "$(jq -r .config.mediaType <<<"$raw")" || return 1
  V2S2_DIGEST=$(raw_digest "$R/single:keep")
  [ "$V2S2_DIGEST" != "$SINGLE_DIGEST" ] || { echo "v2s2 digest equals the OCI digest: no conversion happened"; return 1; }
  eq "inspect Digest of v2s2" "$V2S2_DIGEST" "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/single:keep")"
}
sk_v2s2_list() {
  # --all --format v2s2 turns the OCI index into a Docker manifest list (children re-encoded too).
  skopeo copy --all --format v2s2 --dest-tls-verify=false "oci:$LAYOUTS/multi:v1" "docker://$R/multi-docker:v1" || return 1
  local raw
  raw=$(skopeo inspect --raw --tls-verify=false "docker://$R/multi-docker:v1") || return 1
  eq mediaType application/vnd.docker.distribution.manifest.list.v2+json "$(jq -r .mediaType <<<"$raw")" || return 1
  eq "child mediaTypes" "application/vnd.docker.distribution.manifest.v2+json application/vnd.docker.distribution.manifest.v2+json" \
    "$(jq -r '[.manifests[].mediaType]|join(" ")' <<<"$raw")" || return 1
  eq "arm64 child via override" arm64 \
    "$(skopeo inspect --tls-verify=false --override-arch arm64 --format '{{.Architecture}}' "docker://$R/multi-docker:v1")"
}
sk_list_tags() {
  eq "tags of single" "keep v1 v2" "$(skopeo list-tags --tls-verify=false "docker://$R/single" | jq -r '.Tags|sort|join(" ")')"
}
sk_delete() {
  # Resolve the tag to a digest, delete by digest: the manifest (and with it tags v1 and v2)
  # must be gone, while tag `keep` (a different manifest sharing the layer blob) still pulls.
  local dg
  dg=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/single:v1") || return 1
  eq "resolved digest" "$SINGLE_DIGEST" "$dg" || return 1
  skopeo delete --tls-verify=false "docker://$R/single@$dg" || return 1
  # Gone means the registry answers MANIFEST_UNKNOWN, not that the lookup failed somehow.
  manifest_unknown "$R/single@$dg" || return 1
  manifest_unknown "$R/single:v1" || return 1
  manifest_unknown "$R/single:v2" || return 1
  eq "tags after delete" "keep" "$(skopeo list-tags --tls-verify=false "docker://$R/single" | jq -r '.Tags|sort|join(" ")')" || return 1
  eq "keep still served" "$V2S2_DIGEST" "$(raw_digest "$R/single:keep")" || return 1
  # Pull it in full (an oci: destination converts it back to OCI, fine) and look inside:
  # proves the layer blob shared with the deleted manifest was not removed.
  mkdir -p "$WORK/back"
  skopeo copy --src-tls-verify=false "docker://$R/single:keep" "oci:$WORK/back/keep:keep" || return 1
  # (Without umoci this fails, as need_tool reports: a skipped look inside must not read as kept.)
  umoci raw unpack --image "$WORK/back/keep:keep" "$WORK/back/keep-rootfs" || return 1
  eq "/hello.txt of keep" "hello from berth clients-core $RUNID" "$(cat "$WORK/back/keep-rootfs/hello.txt")" || return 1
  # The other repository's copy of the same manifest is untouched.
  eq "copy repo unaffected" "$SINGLE_DIGEST" "$(raw_digest "$R/copy:v1")"
}
sk_delete_unknown() {
  # Deleting something that is not there must fail because it is not there: containers/image says
  # so when the registry answers 404 to its lookup of the manifest (a 500 or a crash reads otherwise).
  fails_with "Unable to delete .*Image may not exist" \
    skopeo delete --tls-verify=false "docker://$R/single@sha256:$(printf nothing-$RUNID | sha256)"
}

workflow_skopeo() {
  need_tool skopeo || return 0
  check "skopeo: copy single OCI image to registry, digest preserved" sk_push_single
  check "skopeo: copy --all two-platform index to registry, digest preserved" sk_push_index
  check "skopeo: copy single image back to oci: layout, same digest" sk_pull_single
  if need_tool umoci; then
    check "umoci: unpack pulled-back image, file content intact" sk_umoci_content
  fi
  check "skopeo: copy --all index back to oci: layout, index and children intact" sk_pull_index
  check "skopeo: inspect reports digest, architecture, labels" sk_inspect_single
  check "skopeo: inspect by digest reference" sk_inspect_by_digest
  check "skopeo: inspect --override-arch selects the matching child of the index" sk_inspect_arch
  check "skopeo: registry-to-registry copy (same repo new tag, other repo)" sk_copy_within
  check "skopeo: copy --format v2s2 stores a Docker schema2 manifest" sk_v2s2
  check "skopeo: copy --all --format v2s2 stores a Docker manifest list" sk_v2s2_list
  check "skopeo: list-tags" sk_list_tags
  check "skopeo: delete by tag-resolved digest, image gone, shared blobs kept" sk_delete
  check "skopeo: delete of an unknown digest fails" sk_delete_unknown
}

# ---------------------------------------------------------------------------
# buildah + podman workflow (root, vfs storage in $WORK)
# ---------------------------------------------------------------------------
pb_buildah_build_push() {
  local ctr
  ctr=$(buildah from scratch) || return 1
  printf 'built by buildah %s\n' "$RUNID" >"$WORK/buildah-file.txt"
  buildah copy "$ctr" "$WORK/buildah-file.txt" /built.txt || return 1
  buildah config --arch amd64 --os linux --cmd /built.txt --label org.example.test=buildah "$ctr" || return 1
  buildah commit --format oci "$ctr" "localhost/$NS/built:v1" || return 1
  buildah rm "$ctr" >/dev/null
  buildah push --tls-verify=false --digestfile "$WORK/buildah.digest" "localhost/$NS/built:v1" "docker://$R/built:v1" || return 1
  BUILT_DIGEST=$(cat "$WORK/buildah.digest")
  eq "registry digest vs buildah --digestfile" "$BUILT_DIGEST" "$(raw_digest "$R/built:v1")"
}
pb_podman_pull() {
  # Drop the local copy so the pull has to fetch every blob.
  podman rmi -f "localhost/$NS/built:v1" || return 1
  podman pull --tls-verify=false "$R/built:v1" || return 1
  eq "pulled Digest" "$BUILT_DIGEST" "$(podman image inspect --format '{{.Digest}}' "$R/built:v1")" || return 1
  local mnt
  mnt=$(podman image mount "$R/built:v1") || return 1
  local content
  content=$(cat "$mnt/built.txt")
  podman image unmount "$R/built:v1" >/dev/null
  eq "/built.txt" "built by buildah $RUNID" "$content"
}
pb_podman_pull_arch() {
  podman pull --tls-verify=false --arch arm64 "$R/multi:v1" || return 1
  eq "Architecture" arm64 "$(podman image inspect --format '{{.Architecture}}' "$R/multi:v1")" || return 1
  # .Digest is the index's digest here; the image ID is the arm64 child's config digest.
  eq "image ID (arm64 config)" "${MULTI_ARM64_CONFIG#sha256:}" "$(podman image inspect --format '{{.Id}}' "$R/multi:v1")"
}
pb_podman_push_retag() {
  podman tag "$R/built:v1" "$R/retagged:v2" || return 1
  podman push --tls-verify=false --digestfile "$WORK/podman.digest" "$R/retagged:v2" || return 1
  eq "registry digest vs podman --digestfile" "$(cat "$WORK/podman.digest")" "$(raw_digest "$R/retagged:v2")" || return 1
  eq "tags of retagged" "v2" "$(skopeo list-tags --tls-verify=false "docker://$R/retagged" | jq -r '.Tags|join(" ")')"
}
pb_podman_login_logout() {
  # The registry has no auth: login must still succeed (GET /v2/ answers 200) and
  # logout must remove the stored entry. Both only touch $REGISTRY_AUTH_FILE.
  podman login --tls-verify=false -u anyone -p anything "$REG" || return 1
  jq -e --arg r "$REG" '.auths[$r]' "$REGISTRY_AUTH_FILE" >/dev/null || { echo "no auth entry after login"; return 1; }
  podman logout "$REG" || return 1
  # The file must still parse, without the entry (a jq failure is not "removed").
  eq "auth entry after logout" null "$(jq -c --arg r "$REG" '.auths[$r]' "$REGISTRY_AUTH_FILE")"
}
pb_podman_manifest_inspect() {
  # No --tls-verify flag here; registries.conf in $WORK marks the registry insecure.
  local j
  j=$(podman manifest inspect "$R/multi:v1") || return 1
  eq "platforms" "amd64 arm64" "$(jq -r '[.manifests[].platform.architecture]|sort|join(" ")' <<<"$j")"
}

workflow_podman() {
  local have=1
  need_tool buildah || have=0
  need_tool podman || have=0
  need_tool skopeo || have=0
  [ $have = 1 ] || return 0
  ensure_multi
  check "buildah: build from scratch and push, digest matches registry" pb_buildah_build_push
  check "podman: pull back, same digest and file content" pb_podman_pull
  check "podman: pull --arch arm64 from the two-platform index" pb_podman_pull_arch
  check "podman: push a re-tagged image" pb_podman_push_retag
  check "podman: login/logout against the no-auth registry" pb_podman_login_logout
  check "podman: manifest inspect of the index lists both platforms" pb_podman_manifest_inspect
}

# ---------------------------------------------------------------------------
# Docker engine workflow: a private dockerd (vfs, no iptables, no bridge) whose
# state lives in $WORK/d. The engine treats 127.0.0.0/8 as insecure, so plain HTTP works.
# ---------------------------------------------------------------------------
dk_push_base() {
  dkr tag local/base:1 "$R/base:1" || return 1
  dkr push "$R/base:1" | tee "$WORK/push-base.out" || return 1
  BASE_DIGEST=$(push_digest "$WORK/push-base.out")
  [ -n "$BASE_DIGEST" ] || { echo "no digest in docker push output"; return 1; }
  eq "registry digest vs docker push" "$BASE_DIGEST" "$(raw_digest "$R/base:1")" || return 1
  eq "mediaType" application/vnd.docker.distribution.manifest.v2+json \
    "$(skopeo inspect --raw --tls-verify=false "docker://$R/base:1" | jq -r .mediaType)"
}
dk_rmi_pull_base() {
  dkr rmi "$R/base:1" local/base:1 || return 1
  fails_with "No such image: $R/base:1" dkr image inspect "$R/base:1" || return 1
  dkr pull "$R/base:1" || return 1
  eq "RepoDigests" "$R/base@$BASE_DIGEST" "$(dkr image inspect --format '{{join .RepoDigests " "}}' "$R/base:1")"
}
dk_build_push_run() {
  local ctx=$WORK/ctx
  mkdir -p "$ctx"
  cat >"$ctx/Dockerfile" <<EOF
FROM $R/base:1
RUN echo "built on berth $RUNID" > /msg
CMD ["cat", "/msg"]
EOF
  # Remove the base first so the build itself must pull it from the registry by name.
  dkr rmi "$R/base:1" || return 1
  DOCKER_BUILDKIT=0 dkr build --network none -t "$R/app:1" "$ctx" || return 1
  dkr push "$R/app:1" | tee "$WORK/push-app.out" || return 1
  local dg
  dg=$(push_digest "$WORK/push-app.out")
  eq "registry digest vs docker push" "$dg" "$(raw_digest "$R/app:1")" || return 1
  dkr rmi "$R/app:1" || return 1
  dkr pull "$R/app:1" || return 1
  eq "RepoDigests" "$R/app@$dg" "$(dkr image inspect --format '{{join .RepoDigests " "}}' "$R/app:1")" || return 1
  eq "docker run output" "built on berth $RUNID" "$(dkr run --rm --network none "$R/app:1")"
}
dk_pull_by_digest() {
  # Pull by digest reference, the form CI pipelines pin to.
  local dg
  dg=$(raw_digest "$R/app:1") || return 1
  dkr rmi "$R/app:1" || return 1
  dkr pull "$R/app@$dg" || return 1
  eq "RepoDigests" "$R/app@$dg" "$(dkr image inspect --format '{{join .RepoDigests " "}}' "$R/app@$dg")"
}
dk_manifest_inspect() {
  # The 20.10 CLI fetches each child by digest with an Accept header that lists only
  # Docker media types; a registry that insists on Accept for digests (Distribution 2.8)
  # answers 404 there, Berth serves the bytes the digest names. The 20.10 CLI then
  # cannot parse an OCI image manifest at all ("unsupported manifest media type"), a
  # client limit, so this check uses the newest docker CLI on the machine when there is one.
  local j cli=$DOCKER
  if [ -z "${DOCKER_CLI:-}" ] && [ -x /usr/local/bin/docker ]; then cli=/usr/local/bin/docker; fi
  j=$(timeout -k 10 "$T" "$cli" manifest inspect --insecure "$R/multi:v1") || return 1
  echo "$j"
  eq "platforms" "amd64 arm64" "$(jq -r '[.manifests[].platform.architecture]|sort|join(" ")' <<<"$j")" || return 1
  eq "children" "$MULTI_AMD64 $MULTI_ARM64" "$(jq -r '[.manifests[].digest]|join(" ")' <<<"$j")"
}
dk_manifest_inspect_list() {
  local j
  ensure_multi_docker || return 1
  j=$(dkr manifest inspect --insecure "$R/multi-docker:v1") || return 1
  echo "$j"
  eq mediaType application/vnd.docker.distribution.manifest.list.v2+json "$(jq -r .mediaType <<<"$j")" || return 1
  eq "platforms" "amd64 arm64" "$(jq -r '[.manifests[].platform.architecture]|sort|join(" ")' <<<"$j")"
}

# Image tarballs (issue #21): what `docker save` writes, imported through Berth's API, pulls back as the same
# image (same image id: the config digest); Berth's exports load into the engine and copy with skopeo.
dk_import_saved() {
  dkr save -o "$WORK/saved.tar" local/base:1 || return 1
  curl -sS --fail-with-body --max-time 120 -F "archive=@$WORK/saved.tar" -F tag=saved "http://$REG/api/v1/packages/$NS/archives/import" | tee "$WORK/import.json" || return 1
  echo
  local id; id=$(dkr image inspect --format '{{.Id}}' local/base:1) || return 1
  dkr pull "$R/archives:saved" || return 1
  eq "image id after import and pull" "$id" "$(dkr image inspect --format '{{.Id}}' "$R/archives:saved")"
}
dk_load_exported() {
  local id; id=$(dkr image inspect --format '{{.Id}}' "$R/archives:saved") || return 1
  curl -fsS --max-time 120 -o "$WORK/export.docker.tar" "http://$REG/api/v1/packages/$NS/archives/export?reference=saved&format=docker-archive" || return 1
  dkr rmi "$R/archives:saved" local/base:1 >/dev/null || return 1
  dkr load -i "$WORK/export.docker.tar" || return 1
  eq "image id after docker load" "$id" "$(dkr image inspect --format '{{.Id}}' "$NS/archives:saved")" || return 1
  dkr tag "$NS/archives:saved" local/base:1   # the base image, for the checks after this one
}
sk_copy_exported() {
  curl -fsS --max-time 120 -o "$WORK/export.oci.tar" "http://$REG/api/v1/packages/$NS/archives/export?reference=saved&format=oci-archive" || return 1
  skopeo copy --preserve-digests "oci-archive:$WORK/export.oci.tar" "oci:$WORK/exported-layout:saved" || return 1
  eq "manifest digest through oci-archive" "$(raw_digest "$R/archives:saved")" "$(jq -r '.manifests[0].digest' "$WORK/exported-layout/index.json")" || return 1
  eq "skopeo reads the docker-archive" "$(dkr image inspect --format '{{.Id}}' local/base:1)" \
    "$(skopeo inspect --raw "docker-archive:$WORK/export.docker.tar" | jq -r .config.digest)"
}

workflow_docker() {
  local have=1
  need_tool dockerd || have=0
  DOCKER=$(pick_docker_cli)
  [ -n "$DOCKER" ] || { not_ok "docker missing"; have=0; }
  BUSYBOX=${BUSYBOX:-/bin/busybox}
  [ -x "$BUSYBOX" ] || { not_ok "busybox-static missing ($BUSYBOX)"; have=0; }
  need_tool skopeo || have=0
  [ $have = 1 ] || return 0
  echo "# docker CLI: $DOCKER"
  ensure_multi
  check "docker: private dockerd starts (vfs, no iptables, no bridge)" dk_start || return 0
  check "docker: import busybox base image offline" dk_import_base || return 0
  check "docker: push base image, digest matches registry" dk_push_base || return 0
  check "docker save → Berth's import API → docker pull: the same image id" dk_import_saved
  check "Berth's export (docker-archive) → docker load: the same image id" dk_load_exported
  check "Berth's export (oci-archive) → skopeo copy; skopeo reads the docker-archive" sk_copy_exported
  check "docker: rmi and pull back, same repo digest" dk_rmi_pull_base
  check "docker: build FROM the registry image, push, pull, run" dk_build_push_run
  check "docker: pull by digest" dk_pull_by_digest
  check "docker: manifest inspect --insecure of the two-platform OCI index" dk_manifest_inspect
  check "docker: manifest inspect --insecure of the two-platform Docker manifest list" dk_manifest_inspect_list
  stop_dockerd
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
# The registry must answer before anything else means something.
need_tool curl || finish
if ! curl -fsS -o /dev/null --max-time 5 "http://$REG/v2/" 2>>"$LOG"; then
  not_ok "registry answers GET http://$REG/v2/"
  finish
fi
if need_tool jq; then
  check "test images: hand-written OCI layouts (single, two-platform index)" build_test_images || true
  if [ -n "${SINGLE_DIGEST:-}" ] && [ -n "${MULTI_DIGEST:-}" ]; then
    selected skopeo && workflow_skopeo
    selected podman && workflow_podman
    selected docker && workflow_docker
  fi
fi
finish
