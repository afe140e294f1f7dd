#!/usr/bin/env bash
# cosign against Berth, offline (no transparency log, no Fulcio): a key pair, sign/verify of an image,
# verify refusing a tampered tag and a foreign key, attest an SBOM predicate and verify-attestation,
# tree — once in cosign's default tag-based mode (sha256-<hex>.sig/.att tags) and once in the
# OCI 1.1 referrers mode (signatures found through the referrers API).
#
#   conformance/clients/cosign.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
CLIENT_NAME=cosign
. "$(dirname "$0")/lib.sh"
COSIGN=$(need cosign)
cosign() { bounded "$COSIGN" "$@"; }
echo "# cosign $("$COSIGN" version --json 2>/dev/null | jq -r .gitVersion) (module $(tool_version cosign))"
export COSIGN_PASSWORD=""          # unencrypted test keys, no prompt
export COSIGN_YES=true
export TUF_ROOT=$WORK/home/.sigstore/root
R=$NS/cosign-$RUNID
# Offline: nothing is uploaded to Rekor, and verification does not ask for a log entry or SCTs.
SIGN_FLAGS=(--tlog-upload=false --allow-http-registry)
VERIFY_FLAGS=(--insecure-ignore-tlog=true --insecure-ignore-sct=true --allow-http-registry)

setup() {
  make_image_layout "$WORK/layout" "cosign image $RUNID" || return 1
  make_image_layout "$WORK/layout2" "a different image $RUNID" || return 1
  TAMPERED_DIGEST=$IMAGE_DIGEST
  make_image_layout "$WORK/layout" "cosign image $RUNID" || return 1   # IMAGE_DIGEST = the first image again
  cd "$WORK" && cosign generate-key-pair || return 1
  mkdir -p "$WORK/other" && (cd "$WORK/other" && cosign generate-key-pair) || return 1
  printf '{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"berth-%s","dataLicense":"CC0-1.0"}\n' "$RUNID" >"$WORK/sbom.spdx.json"
}
login() {
  cosign login "$REG" -u "$REG_USER" -p "$REG_PASSWORD" || return 1
  grep -q "\"$REG\"" "$DOCKER_CONFIG/config.json"
}
push_images() { # push_images REPO — the image at :v1, via skopeo with the same credentials
  local repo=$1
  timeout -k 10 "$T" skopeo copy --dest-tls-verify=false --dest-creds "$REG_USER:$REG_PASSWORD" \
    "oci:$WORK/layout:v1" "docker://$REG/$repo:v1" || return 1
  eq "pushed digest" "$IMAGE_DIGEST" "$(reg_digest "$repo" v1)"
}
sign() { # sign REPO MODE-FLAGS...
  local repo=$1; shift
  cosign sign --key "$WORK/cosign.key" "${SIGN_FLAGS[@]}" "$@" "$REG/$repo@$IMAGE_DIGEST"
}
verify_ok() { # verify_ok REPO MODE-FLAGS...
  local repo=$1; shift
  cosign verify --key "$WORK/cosign.pub" "${VERIFY_FLAGS[@]}" "$@" "$REG/$repo:v1" >"$WORK/verify.json" || return 1
  cat "$WORK/verify.json"
  eq "verified digest" "$IMAGE_DIGEST" "$(jq -r '.[0].critical.image["docker-manifest-digest"]' "$WORK/verify.json")" || return 1
  eq "verified reference" "$REG/$repo" "$(jq -r '.[0].critical.identity["docker-reference"]' "$WORK/verify.json")"
}
verify_refused() { # verify_refused REPO FOREIGN-KEY-REASON MODE-FLAGS...: a foreign key, then a tag moved to another image
  local repo=$1 reason=$2; shift 2
  # Refused for the reason named, in cosign's words: a registry error on the way is no refusal.
  fails_with "$reason" cosign verify --key "$WORK/other/cosign.pub" "${VERIFY_FLAGS[@]}" "$@" "$REG/$repo:v1" || return 1
  timeout -k 10 "$T" skopeo copy --dest-tls-verify=false --dest-creds "$REG_USER:$REG_PASSWORD" \
    "oci:$WORK/layout2:v1" "docker://$REG/$repo:tampered" || return 1
  eq "tampered digest" "$TAMPERED_DIGEST" "$(reg_digest "$repo" tampered)" || return 1
  fails_with "no signatures found" cosign verify --key "$WORK/cosign.pub" "${VERIFY_FLAGS[@]}" "$@" "$REG/$repo:tampered" || return 1
  # The signed image still verifies afterwards.
  cosign verify --key "$WORK/cosign.pub" "${VERIFY_FLAGS[@]}" "$@" "$REG/$repo@$IMAGE_DIGEST" >/dev/null
}
attest() { # attest REPO MODE-FLAGS...
  local repo=$1; shift
  cosign attest --key "$WORK/cosign.key" "${SIGN_FLAGS[@]}" "$@" --type spdxjson --predicate "$WORK/sbom.spdx.json" \
    "$REG/$repo@$IMAGE_DIGEST" || return 1
  cosign verify-attestation --key "$WORK/cosign.pub" "${VERIFY_FLAGS[@]}" "$@" --type spdxjson "$REG/$repo:v1" >"$WORK/att.json" || return 1
  local stmt; stmt=$(head -n 1 "$WORK/att.json" | jq -r .payload | base64 -d) || return 1
  echo "$stmt"
  eq "statement subject" "${IMAGE_DIGEST#sha256:}" "$(jq -r '.subject[0].digest.sha256' <<<"$stmt")" || return 1
  eq "predicate type" "https://spdx.dev/Document" "$(jq -r .predicateType <<<"$stmt")" || return 1
  eq "predicate = the SBOM" "$(jq -cS . "$WORK/sbom.spdx.json")" "$(jq -cS .predicate <<<"$stmt")" || return 1
  fails_with "no matching attestations" \
    cosign verify-attestation --key "$WORK/other/cosign.pub" "${VERIFY_FLAGS[@]}" "$@" --type spdxjson "$REG/$repo:v1"
}
tree() { # tree REPO [FLAGS...]
  local repo=$1; shift
  cosign tree "$@" "$REG/$repo@$IMAGE_DIGEST" >"$WORK/tree.txt" 2>&1 || return 1
  cat "$WORK/tree.txt"
}

# --- default mode: signatures and attestations under sha256-<hex>.sig / .att tags ---
tag_layout() {
  local hex=${IMAGE_DIGEST#sha256:} tags
  tags=$(reg_tags "$R/tagmode" | tr '\n' ' ' | sed 's/ $//')
  eq "tags" "sha256-$hex.att sha256-$hex.sig tampered v1" "$tags" || return 1
  # The .sig manifest's layer is cosign's simple-signing payload naming this image.
  local m payload
  m=$(reg_manifest "$R/tagmode" "sha256-$hex.sig") || return 1
  payload=$(reg_get "$R/tagmode" "blobs/$(jq -r '.layers[0].digest' <<<"$m")" '*/*') || return 1
  eq "signed payload digest" "$IMAGE_DIGEST" "$(jq -r '.critical.image["docker-manifest-digest"]' <<<"$payload")"
}
tag_tree() {
  tree "$R/tagmode" || return 1
  grep -q "Signatures for an image tag: $REG/$R/tagmode:sha256-${IMAGE_DIGEST#sha256:}.sig" "$WORK/tree.txt" &&
    grep -q "Attestations for an image tag: $REG/$R/tagmode:sha256-${IMAGE_DIGEST#sha256:}.att" "$WORK/tree.txt"
}

# --- OCI 1.1 mode: signature and attestation manifests with a subject, listed by the referrers API ---
REF_FLAGS=(--registry-referrers-mode=oci-1-1)
VERIFY_REF_FLAGS=(--experimental-oci11)
attest_bundle() { # attest_bundle REPO — cosign v2's referrers-API attestation is a Sigstore bundle
  local repo=$1
  cosign attest --key "$WORK/cosign.key" "${SIGN_FLAGS[@]}" --new-bundle-format --type spdxjson \
    --predicate "$WORK/sbom.spdx.json" "$REG/$repo@$IMAGE_DIGEST" || return 1
  local r; r=$(reg_referrers "$repo" "$IMAGE_DIGEST" "application/vnd.dev.sigstore.bundle.v0.3+json") || return 1
  echo "$r"
  eq "bundle referrers" 1 "$(jq '.manifests | length' <<<"$r")" || return 1
  # The bundle's DSSE payload is the in-toto statement over this image with the SBOM as predicate.
  local m b stmt
  m=$(reg_manifest "$repo" "$(jq -r '.manifests[0].digest' <<<"$r")") || return 1
  b=$(reg_get "$repo" "blobs/$(jq -r '.layers[0].digest' <<<"$m")" '*/*') || return 1
  stmt=$(jq -r '.dsseEnvelope.payload' <<<"$b" | base64 -d) || return 1
  eq "statement subject" "${IMAGE_DIGEST#sha256:}" "$(jq -r '.subject[0].digest.sha256' <<<"$stmt")" || return 1
  eq "predicate = the SBOM" "$(jq -cS . "$WORK/sbom.spdx.json")" "$(jq -cS .predicate <<<"$stmt")" || return 1
  # Offline verification of a bundle needs a trusted root; an empty one (no CAs, logs or TSAs) plus the key.
  jq -n '{mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: []}' >"$WORK/trusted_root.json"
  cosign verify-attestation --key "$WORK/cosign.pub" "${VERIFY_FLAGS[@]}" --new-bundle-format --trusted-root "$WORK/trusted_root.json" \
    --type spdxjson "$REG/$repo@$IMAGE_DIGEST" >"$WORK/att2.json" || return 1
  cat "$WORK/att2.json"
}
ref_verify_refused() {
  # cosign's OCI 1.1 path drops any error of its own (a signature under another key and a failed
  # referrers request alike) and falls back to the tag scheme, which finds nothing: its refusal of
  # a foreign key reads "no signatures found". So the registry's referrers answer must list the
  # signature first: "nothing found" must not stand for "the registry lost it".
  local r; r=$(reg_referrers "$R/refmode" "$IMAGE_DIGEST" application/vnd.dev.cosign.artifact.sig.v1+json) || return 1
  eq "cosign signatures among the referrers (registry)" 1 "$(jq '.manifests | length' <<<"$r")" || return 1
  verify_refused "$R/refmode" "no signatures found" "${VERIFY_REF_FLAGS[@]}"
}
ref_layout() {
  local r; r=$(reg_referrers "$R/refmode" "$IMAGE_DIGEST") || return 1
  echo "$r"
  eq "referrer count (signature, bundle)" 2 "$(jq '.manifests | length' <<<"$r")" || return 1
  jq -e '.manifests[] | select(.artifactType == "application/vnd.dev.cosign.artifact.sig.v1+json")' <<<"$r" >/dev/null ||
    { echo "no cosign signature among the referrers"; return 1; }
  # No fallback tags: the registry announced referrers support (OCI-Subject) when the manifests were pushed.
  eq "tags" "tampered v1" "$(reg_tags "$R/refmode" | tr '\n' ' ' | sed 's/ $//')"
}
ref_tree() {
  tree "$R/refmode" --experimental-oci11 || return 1
  grep -q "application/vnd.dev.cosign.artifact.sig.v1+json artifacts via OCI referrer: $REG/$R/refmode@sha256:" "$WORK/tree.txt" &&
    grep -q "application/vnd.dev.sigstore.bundle.v0.3+json artifacts via OCI referrer: $REG/$R/refmode@sha256:" "$WORK/tree.txt"
}

check "test images, two key pairs, an SPDX SBOM" setup || finish
check "login" login || finish
check "tag mode: push the image" push_images "$R/tagmode" || finish
check "tag mode: sign --key (no tlog upload)" sign "$R/tagmode" || finish
check "tag mode: verify --key" verify_ok "$R/tagmode"
check "tag mode: verify refuses a foreign key and a tampered tag" verify_refused "$R/tagmode" "no matching signatures"
check "tag mode: attest an SPDX predicate; verify-attestation returns it" attest "$R/tagmode"
check "tag mode: tree" tag_tree
check "tag mode: .sig/.att tags and the signed payload in the registry" tag_layout

export COSIGN_EXPERIMENTAL=1
check "referrers mode: push the image" push_images "$R/refmode" || finish
check "referrers mode: sign --registry-referrers-mode=oci-1-1" sign "$R/refmode" "${REF_FLAGS[@]}" || finish
check "referrers mode: verify --experimental-oci11" verify_ok "$R/refmode" "${VERIFY_REF_FLAGS[@]}"
check "referrers mode: verify refuses a foreign key and a tampered tag" ref_verify_refused
check "referrers mode: attest --new-bundle-format (a Sigstore bundle as a referrer) and verify-attestation" attest_bundle "$R/refmode"
check "referrers mode: tree --experimental-oci11" ref_tree
check "referrers mode: the registry lists signature and attestation as referrers, no fallback tags" ref_layout
finish
