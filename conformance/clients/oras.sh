#!/usr/bin/env bash
# oras against Berth: an artifact with a custom artifactType and several files (one over 50 MiB),
# attached SBOM and signature-like artifacts read back through the referrers API (discover: tree,
# JSON, --artifact-type filter), pull returns identical files, copy -r carries the referrers to
# another repository, manifest fetch / repo tags / manifest delete.
#
#   conformance/clients/oras.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
CLIENT_NAME=oras
. "$(dirname "$0")/lib.sh"
ORAS=$(need oras)
oras() { bounded "$ORAS" "$@"; }
echo "# $("$ORAS" version 2>/dev/null | head -n 1) (module $(tool_version oras))"

ART=$NS/oras-$RUNID/bundle        # the multi-file artifact
IMG=$NS/oras-$RUNID/app           # an image that gets referrers
COPY=$NS/oras-$RUNID/app-copy     # where copy -r puts the image and its referrers
BUNDLE_TYPE=application/vnd.berth.test.bundle.v1
SBOM_TYPE=application/spdx+json
SIG_TYPE=application/vnd.berth.test.signature.v1

mk_files() {
  mkdir -p "$WORK/src/docs" "$WORK/layout"
  cd "$WORK/src" || return 1
  printf 'readme for %s\n' "$RUNID" >readme.txt
  printf '{"run": "%s", "kind": "config"}\n' "$RUNID" >settings.json
  printf 'nested file %s\n' "$RUNID" >docs/guide.md
  head -c $((52 * 1024 * 1024 + 123)) /dev/urandom >big.bin        # over 50 MiB, not a chunk multiple
  printf '{"spdxVersion":"SPDX-2.3","name":"%s"}\n' "$RUNID" >sbom.spdx.json
  printf 'signature over %s\n' "$RUNID" >sig.bin
  make_image_layout "$WORK/layout" "oras image $RUNID"
}
login() {
  printf '%s' "$REG_PASSWORD" | oras login --plain-http -u "$REG_USER" --password-stdin "$REG" || return 1
  grep -q "\"$REG\"" "$DOCKER_CONFIG/config.json"
}
push_artifact() {
  cd "$WORK/src" || return 1
  oras push --plain-http --artifact-type "$BUNDLE_TYPE" --annotation "org.example.run=$RUNID" \
    --export-manifest "$WORK/pushed-manifest.json" --format json \
    "$REG/$ART:v1,latest" readme.txt:text/plain settings.json:application/json docs/guide.md:text/markdown \
    big.bin:application/octet-stream >"$WORK/push.json" || return 1
  cat "$WORK/push.json"
  ART_DIGEST=sha256:$(sha256 <"$WORK/pushed-manifest.json")
  eq "digest printed by push" "$ART_DIGEST" "$(jq -r .digest "$WORK/push.json")" || return 1
  # The registry serves exactly the manifest oras built, under both tags.
  eq "registry digest of :v1" "$ART_DIGEST" "$(reg_digest "$ART" v1)" || return 1
  eq "registry digest of :latest" "$ART_DIGEST" "$(reg_digest "$ART" latest)" || return 1
  local m; m=$(cat "$WORK/pushed-manifest.json")
  eq "artifactType" "$BUNDLE_TYPE" "$(jq -r .artifactType <<<"$m")" || return 1
  eq "config is the empty descriptor" "application/vnd.oci.empty.v1+json sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a 2" \
    "$(jq -r '.config | "\(.mediaType) \(.digest) \(.size)"' <<<"$m")" || return 1
  eq "layer titles" "big.bin docs/guide.md readme.txt settings.json" \
    "$(jq -r '[.layers[].annotations["org.opencontainers.image.title"]] | sort | join(" ")' <<<"$m")" || return 1
  eq "big layer size" "$(stat -c %s big.bin)" "$(jq -r '.layers[] | select(.annotations["org.opencontainers.image.title"]=="big.bin") | .size' <<<"$m")"
}
pull_artifact() {
  oras pull --plain-http -o "$WORK/pulled" "$REG/$ART:v1" || return 1
  local f
  for f in readme.txt settings.json docs/guide.md big.bin; do same_file "$f" "$WORK/src/$f" "$WORK/pulled/$f" || return 1; done
}
manifest_fetch() {
  oras manifest fetch --plain-http "$REG/$ART:v1" >"$WORK/fetched.json" || return 1
  same_file "manifest fetched by tag" "$WORK/pushed-manifest.json" "$WORK/fetched.json" || return 1
  oras manifest fetch --plain-http --descriptor "$REG/$ART@$ART_DIGEST" >"$WORK/desc.json" || return 1
  cat "$WORK/desc.json"
  # (Resolved from the response headers, so it carries no artifactType.)
  eq "descriptor" "application/vnd.oci.image.manifest.v1+json $ART_DIGEST $(stat -c %s "$WORK/pushed-manifest.json")" \
    "$(jq -r '"\(.mediaType) \(.digest) \(.size)"' "$WORK/desc.json")"
}
push_image() {
  oras cp --from-oci-layout --to-plain-http "$WORK/layout:v1" "$REG/$IMG:v1" || return 1
  eq "image digest" "$IMAGE_DIGEST" "$(reg_digest "$IMG" v1)"
}
attach() {
  cd "$WORK/src" || return 1
  oras attach --plain-http --artifact-type "$SBOM_TYPE" --annotation "org.example.kind=sbom" --format json \
    "$REG/$IMG:v1" sbom.spdx.json:application/spdx+json >"$WORK/attach-sbom.json" || return 1
  oras attach --plain-http --artifact-type "$SIG_TYPE" --format json \
    "$REG/$IMG@$IMAGE_DIGEST" sig.bin:application/octet-stream >"$WORK/attach-sig.json" || return 1
  SBOM_DIGEST=$(jq -r .digest "$WORK/attach-sbom.json"); SIG_DIGEST=$(jq -r .digest "$WORK/attach-sig.json")
  # The registry's referrers answer (not oras's view of it) lists both, typed, with the annotation.
  local r; r=$(reg_referrers "$IMG" "$IMAGE_DIGEST") || return 1
  echo "$r"
  eq "referrers (registry)" "$(printf '%s %s\n%s %s' "$SBOM_DIGEST" "$SBOM_TYPE" "$SIG_DIGEST" "$SIG_TYPE" | sort)" \
    "$(jq -r '.manifests[] | "\(.digest) \(.artifactType)"' <<<"$r" | sort)" || return 1
  eq "sbom annotation in the referrers list" "sbom" \
    "$(jq -r --arg d "$SBOM_DIGEST" '.manifests[] | select(.digest==$d) | .annotations["org.example.kind"]' <<<"$r")" || return 1
  eq "filtered referrers (registry)" "$SIG_DIGEST" "$(reg_referrers "$IMG" "$IMAGE_DIGEST" "$SIG_TYPE" | jq -r '.manifests[].digest')" || return 1
  # Attached with the referrers API: no fallback tag (sha256-<hex>) was needed.
  eq "tags of the image repository" "v1" "$(reg_tags "$IMG" | tr '\n' ' ' | sed 's/ $//')"
}
discover_json_digests() { # discover_json_digests JSON — the referrer digests, whatever the JSON shape (1.2: manifests, 1.3: referrers)
  jq -r '(.referrers // .manifests // [])[] | .digest' "$1" | sort
}
discover() {
  oras discover --plain-http --format tree "$REG/$IMG:v1" >"$WORK/tree.txt" || return 1
  cat "$WORK/tree.txt"
  grep -q "$SBOM_TYPE" "$WORK/tree.txt" && grep -q "$SIG_TYPE" "$WORK/tree.txt" || { echo "tree misses an artifact type"; return 1; }
  grep -q "$SBOM_DIGEST" "$WORK/tree.txt" && grep -q "$SIG_DIGEST" "$WORK/tree.txt" || { echo "tree misses a referrer digest"; return 1; }
  oras discover --plain-http --format json "$REG/$IMG:v1" >"$WORK/discover.json" || return 1
  eq "discover json" "$(printf '%s\n%s' "$SBOM_DIGEST" "$SIG_DIGEST" | sort)" "$(discover_json_digests "$WORK/discover.json")" || return 1
  oras discover --plain-http --format json --artifact-type "$SBOM_TYPE" "$REG/$IMG:v1" >"$WORK/discover-sbom.json" || return 1
  eq "discover --artifact-type" "$SBOM_DIGEST" "$(discover_json_digests "$WORK/discover-sbom.json")"
}
pull_referrer() {
  oras pull --plain-http -o "$WORK/sbom-back" "$REG/$IMG@$SBOM_DIGEST" || return 1
  same_file "attached SBOM" "$WORK/src/sbom.spdx.json" "$WORK/sbom-back/sbom.spdx.json"
}
copy_recursive() {
  oras cp -r --from-plain-http --to-plain-http "$REG/$IMG:v1" "$REG/$COPY:v1" || return 1
  eq "copied image digest" "$IMAGE_DIGEST" "$(reg_digest "$COPY" v1)" || return 1
  eq "referrers in the copy" "$(printf '%s\n%s' "$SBOM_DIGEST" "$SIG_DIGEST" | sort)" \
    "$(reg_referrers "$COPY" "$IMAGE_DIGEST" | jq -r '.manifests[].digest' | sort)" || return 1
  eq "copied SBOM manifest" "$SBOM_DIGEST" "$(reg_digest "$COPY" "$SBOM_DIGEST")"
}
repo_tags() {
  oras repo tags --plain-http "$REG/$ART" >"$WORK/tags.txt" || return 1
  eq "repo tags" "latest v1" "$(sort "$WORK/tags.txt" | tr '\n' ' ' | sed 's/ $//')"
}
manifest_delete() {
  oras manifest delete --plain-http --force "$REG/$ART@$ART_DIGEST" || return 1
  # Gone: oras reports the tag not found (its words for a 404), the registry answers 404 for the
  # digest, and the tag list is read successfully and is empty.
  fails_with "failed to fetch the content of .*: not found" oras manifest fetch --plain-http "$REG/$ART:v1" || return 1
  eq "registry's answer for $ART_DIGEST" "404 MANIFEST_UNKNOWN" "$(reg_answer "$ART" "manifests/$ART_DIGEST")" || return 1
  oras repo tags --plain-http "$REG/$ART" >"$WORK/tags-after.txt" || return 1
  eq "tags after delete" "" "$(tr '\n' ' ' <"$WORK/tags-after.txt")"
}
logout() {
  oras logout "$REG" || return 1
  refused oras manifest fetch --plain-http "$REG/$IMG:v1"
}

check "test files (one of 52 MiB) and an image layout" mk_files || finish
check "login --password-stdin" login || finish
check "push: custom artifactType, four files (52 MiB one), two tags; manifest byte-identical in the registry" push_artifact || finish
check "pull: every file byte-identical" pull_artifact
check "manifest fetch: identical bytes; --descriptor" manifest_fetch
check "cp --from-oci-layout: an image" push_image || finish
check "attach: an SBOM and a signature-like artifact (referrers API, no fallback tag)" attach || finish
check "discover: tree, json, --artifact-type filter" discover
check "pull an attached SBOM by digest" pull_referrer
check "cp -r: the image and its referrers to another repository" copy_recursive
check "repo tags" repo_tags
check "manifest delete: gone by digest and tag, tag list empty" manifest_delete
check "logout: private image no longer readable" logout
finish
