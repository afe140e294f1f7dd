#!/usr/bin/env bash
# crane (go-containerregistry) against Berth: auth login, push of an OCI layout, copy, ls, digest,
# manifest, config, append (a new layer onto an image), mutate (labels), export, delete — each result
# compared with the registry's own answer or with the bytes that went in.
#
#   conformance/clients/crane.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
CLIENT_NAME=crane
. "$(dirname "$0")/lib.sh"
CRANE=$(need crane)
crane() { bounded "$CRANE" "$@"; }   # plain HTTP: go-containerregistry uses http for 127.0.0.1/localhost
echo "# crane $("$CRANE" version 2>/dev/null) (module $(tool_version crane))"

R=$NS/crane-$RUNID

setup() {
  make_image_layout "$WORK/layout" "crane image $RUNID" || return 1
  mkdir -p "$WORK/extra/opt"
  printf 'appended by crane %s\n' "$RUNID" >"$WORK/extra/opt/added.txt"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$WORK/extra" -cf "$WORK/added.tar" opt
}
login() {
  printf '%s' "$REG_PASSWORD" | crane auth login "$REG" -u "$REG_USER" --password-stdin || return 1
  grep -q "\"$REG\"" "$DOCKER_CONFIG/config.json"
}
push() {
  crane push "$WORK/layout" "$REG/$R/base:v1" || return 1
  eq "registry digest" "$IMAGE_DIGEST" "$(reg_digest "$R/base" v1)"
}
copy() {
  crane copy "$REG/$R/base:v1" "$REG/$R/copy:c1" || return 1
  eq "copied digest (registry)" "$IMAGE_DIGEST" "$(reg_digest "$R/copy" c1)"
}
ls_tags() {
  crane tag "$REG/$R/copy:c1" c2 || return 1
  eq "crane ls" "c1 c2" "$(crane ls "$REG/$R/copy" | sort | tr '\n' ' ' | sed 's/ $//')"
}
digest() {
  eq "crane digest" "$IMAGE_DIGEST" "$(crane digest "$REG/$R/copy:c2")"
}
manifest() {
  crane manifest "$REG/$R/copy:c1" >"$WORK/m.crane" || return 1
  same_file "manifest" "$WORK/layout/blobs/sha256/${IMAGE_DIGEST#sha256:}" "$WORK/m.crane" || return 1
  crane config "$REG/$R/copy:c1" >"$WORK/c.crane" || return 1
  same_file "config" "$WORK/layout/blobs/sha256/$(jq -r '.config.digest | ltrimstr("sha256:")' "$WORK/m.crane")" "$WORK/c.crane"
}
append() {
  crane append -b "$REG/$R/base:v1" -f "$WORK/added.tar" -t "$REG/$R/appended:v2" || return 1
  local m c d
  m=$(reg_manifest "$R/appended" v2) || return 1
  d=$(crane digest "$REG/$R/appended:v2") || return 1
  eq "digest" "$d" "sha256:$(printf '%s' "$m" | sha256)" || return 1
  eq "layer count" 2 "$(jq '.layers | length' <<<"$m")" || return 1
  eq "base layer kept" "$(jq -r '.layers[0].digest' "$WORK/m.crane")" "$(jq -r '.layers[0].digest' <<<"$m")" || return 1
  c=$(reg_get "$R/appended" "blobs/$(jq -r .config.digest <<<"$m")" '*/*') || return 1
  # The new layer's diff_id is the digest of exactly the tar we appended, and the blob decompresses to it.
  eq "diff_id of the appended layer" "sha256:$(sha256 <"$WORK/added.tar")" "$(jq -r '.rootfs.diff_ids[1]' <<<"$c")" || return 1
  reg_get "$R/appended" "blobs/$(jq -r '.layers[1].digest' <<<"$m")" '*/*' >"$WORK/layer2.gz" || return 1
  eq "blob digest" "$(jq -r '.layers[1].digest' <<<"$m")" "sha256:$(sha256 <"$WORK/layer2.gz")" || return 1
  gzip -dc "$WORK/layer2.gz" >"$WORK/layer2.tar" && same_file "appended layer" "$WORK/added.tar" "$WORK/layer2.tar"
}
export_fs() {
  mkdir -p "$WORK/fs"
  crane export "$REG/$R/appended:v2" - | tar -C "$WORK/fs" -xf - || return 1
  same_file "/opt/added.txt" "$WORK/extra/opt/added.txt" "$WORK/fs/opt/added.txt" || return 1
  eq "/hello.txt" "crane image $RUNID" "$(cat "$WORK/fs/hello.txt")"
}
mutate() {
  crane mutate "$REG/$R/appended:v2" --label "org.example.team=berth" --label "org.example.run=$RUNID" -t "$REG/$R/mutated:v3" || return 1
  local m c
  m=$(reg_manifest "$R/mutated" v3) || return 1
  c=$(reg_get "$R/mutated" "blobs/$(jq -r .config.digest <<<"$m")" '*/*') || return 1
  eq "labels" '{"org.example.base":"yes","org.example.run":"'"$RUNID"'","org.example.team":"berth"}' "$(jq -cS .config.Labels <<<"$c")" || return 1
  eq "layers unchanged" "$(reg_manifest "$R/appended" v2 | jq -c .layers)" "$(jq -c .layers <<<"$m")" || return 1
  crane config "$REG/$R/mutated:v3" >"$WORK/c3" && eq "crane config" "$c" "$(cat "$WORK/c3")"
}
delete() {
  local d; d=$(crane digest "$REG/$R/mutated:v3") || return 1
  crane delete "$REG/$R/mutated@$d" || return 1
  # Gone: crane relays the registry's MANIFEST_UNKNOWN for the tag, and the registry answers 404 for the digest.
  fails_with "MANIFEST_UNKNOWN: manifest unknown" crane manifest "$REG/$R/mutated:v3" || return 1
  eq "registry's answer for $d" "404 MANIFEST_UNKNOWN" "$(reg_answer "$R/mutated" "manifests/$d")" || return 1
  # The other repositories are untouched.
  eq "base still there" "$IMAGE_DIGEST" "$(crane digest "$REG/$R/base:v1")"
}

check "test image layout and a layer tar" setup || finish
check "auth login --password-stdin" login || finish
check "push an OCI layout" push || finish
check "copy to another repository" copy
check "tag and ls" ls_tags
check "digest" digest
check "manifest and config: the bytes that were pushed" manifest
check "append: a new layer onto the image (diff_id, blob and tar byte-identical)" append
check "export: the flattened filesystem holds both layers' files" export_fs
check "mutate --label: config labels, layers unchanged" mutate
check "delete by digest" delete
finish
