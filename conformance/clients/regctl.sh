#!/usr/bin/env bash
# regctl (regclient) against Berth: registry login, image copy from an OCI layout, artifact put
# (standalone and with a subject), artifact get/list (referrers), image copy --referrers to another
# repository, tag ls, manifest get --format, tag delete — checked against the registry's own answers.
#
#   conformance/clients/regctl.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
CLIENT_NAME=regctl
. "$(dirname "$0")/lib.sh"
REGCTL=$(need regctl)
regctl() { bounded "$REGCTL" "$@"; }
echo "# regctl $("$REGCTL" version --format '{{.VCSTag}}' 2>/dev/null) (module $(tool_version regctl))"

R=$NS/regctl-$RUNID
SBOM_TYPE=application/vnd.berth.test.sbom.v1
SIG_TYPE=application/vnd.berth.test.sig.v1

setup() {
  make_image_layout "$WORK/layout" "regctl image $RUNID" || return 1
  printf '{"sbom": "%s"}\n' "$RUNID" >"$WORK/sbom.json"
  printf 'sig %s\n' "$RUNID" >"$WORK/sig.txt"
  head -c 3000000 /dev/urandom >"$WORK/payload.bin"
}
login() {
  regctl registry set "$REG" --tls disabled || return 1
  printf '%s' "$REG_PASSWORD" | regctl registry login "$REG" -u "$REG_USER" --pass-stdin
}
import() {
  regctl image copy "ocidir://$WORK/layout:v1" "$REG/$R/app:v1" || return 1
  eq "registry digest" "$IMAGE_DIGEST" "$(reg_digest "$R/app" v1)"
}
manifest_get() {
  eq "manifest get --format {{.Config.Digest}}" "$(jq -r .config.digest "$WORK/layout/blobs/sha256/${IMAGE_DIGEST#sha256:}")" \
    "$(regctl manifest get "$REG/$R/app:v1" --format '{{ .Config.Digest }}')" || return 1
  regctl manifest get "$REG/$R/app:v1" --format raw-body >"$WORK/m.raw" || return 1
  same_file "raw manifest" "$WORK/layout/blobs/sha256/${IMAGE_DIGEST#sha256:}" "$WORK/m.raw"
}
artifact_put_get() {
  regctl artifact put --artifact-type application/vnd.berth.test.payload.v1 --annotation "org.example.run=$RUNID" \
    --file "$WORK/payload.bin" --file-media-type application/octet-stream "$REG/$R/payload:p1" || return 1
  local m; m=$(reg_manifest "$R/payload" p1) || return 1
  echo "$m"
  eq "artifactType" application/vnd.berth.test.payload.v1 "$(jq -r .artifactType <<<"$m")" || return 1
  eq "layer digest" "sha256:$(sha256 <"$WORK/payload.bin")" "$(jq -r '.layers[0].digest' <<<"$m")" || return 1
  regctl artifact get "$REG/$R/payload:p1" >"$WORK/payload.back" || return 1
  same_file "artifact get" "$WORK/payload.bin" "$WORK/payload.back"
}
artifact_attach() {
  regctl artifact put --subject "$REG/$R/app:v1" --artifact-type "$SBOM_TYPE" \
    --file "$WORK/sbom.json" --file-media-type application/json --annotation "org.example.kind=sbom" || return 1
  regctl artifact put --subject "$REG/$R/app:v1" --artifact-type "$SIG_TYPE" \
    --file "$WORK/sig.txt" --file-media-type text/plain || return 1
  local r; r=$(reg_referrers "$R/app" "$IMAGE_DIGEST") || return 1
  echo "$r"
  SBOM_DIGEST=$(jq -r --arg t "$SBOM_TYPE" '.manifests[] | select(.artifactType==$t) | .digest' <<<"$r")
  SIG_DIGEST=$(jq -r --arg t "$SIG_TYPE" '.manifests[] | select(.artifactType==$t) | .digest' <<<"$r")
  eq "two referrers (registry)" 2 "$(jq '.manifests | length' <<<"$r")" || return 1
  [ -n "$SBOM_DIGEST" ] && [ -n "$SIG_DIGEST" ] || { echo "a referrer is missing"; return 1; }
  eq "subject of the sbom manifest" "$IMAGE_DIGEST" "$(reg_manifest "$R/app" "$SBOM_DIGEST" | jq -r .subject.digest)"
}
artifact_list() {
  local fmt='{{ range .Descriptors }}{{ .Digest }} {{ .ArtifactType }}{{ "\n" }}{{ end }}'
  eq "artifact list" "$(printf '%s %s\n%s %s' "$SBOM_DIGEST" "$SBOM_TYPE" "$SIG_DIGEST" "$SIG_TYPE" | sort)" \
    "$(regctl artifact list "$REG/$R/app:v1" --format "$fmt" | sed '/^$/d' | sort)" || return 1
  eq "artifact list --filter-artifact-type" "$SIG_DIGEST $SIG_TYPE" \
    "$(regctl artifact list "$REG/$R/app:v1" --filter-artifact-type "$SIG_TYPE" --format "$fmt" | sed '/^$/d')" || return 1
  regctl artifact get --subject "$REG/$R/app:v1" --filter-artifact-type "$SBOM_TYPE" >"$WORK/sbom.back" || return 1
  same_file "sbom fetched through its subject" "$WORK/sbom.json" "$WORK/sbom.back"
}
copy_referrers() {
  regctl image copy --referrers "$REG/$R/app:v1" "$REG/$R/copy:v1" || return 1
  eq "copied image digest" "$IMAGE_DIGEST" "$(reg_digest "$R/copy" v1)" || return 1
  eq "referrers of the copy (registry)" "$(printf '%s\n%s' "$SBOM_DIGEST" "$SIG_DIGEST" | sort)" \
    "$(reg_referrers "$R/copy" "$IMAGE_DIGEST" | jq -r '.manifests[].digest' | sort)"
}
tag_ls() {
  regctl image copy "$REG/$R/app:v1" "$REG/$R/app:v2" || return 1
  eq "tag ls" "v1 v2" "$(regctl tag ls "$REG/$R/app" | sort | tr '\n' ' ' | sed 's/ $//')" || return 1
  eq "registry tag list" "v1 v2" "$(reg_tags "$R/app" | tr '\n' ' ' | sed 's/ $//')"
}
tag_delete() {
  regctl tag delete "$REG/$R/app:v2" || return 1
  eq "tag ls after delete" "v1" "$(regctl tag ls "$REG/$R/app" | tr '\n' ' ' | sed 's/ $//')" || return 1
  eq "v1 still resolves" "$IMAGE_DIGEST" "$(regctl image digest "$REG/$R/app:v1")"
}

check "test image layout and artifact files" setup || finish
check "registry set --tls disabled; login --pass-stdin" login || finish
check "image copy from an OCI layout (ocidir://)" import || finish
check "manifest get --format '{{ .Config.Digest }}' and raw-body" manifest_get
check "artifact put (3 MB file) and get: identical bytes" artifact_put_get
check "artifact put --subject: an SBOM and a signature" artifact_attach || finish
check "artifact list (and --filter-artifact-type), artifact get --subject" artifact_list
check "image copy --referrers to another repository" copy_referrers
check "tag ls" tag_ls
check "tag delete" tag_delete
finish
