#!/usr/bin/env bash
# notation (Notary Project) against Berth with a local test certificate: login, sign an image (through
# the referrers API, and through the referrers tag schema), list signatures, verify under a trust
# policy, and refuse an unsigned image and a signature from an untrusted certificate.
#
#   conformance/clients/notation.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
CLIENT_NAME=notation
. "$(dirname "$0")/lib.sh"
NOTATION=$(need notation)
notation() { bounded "$NOTATION" "$@"; }
echo "# notation $("$NOTATION" version 2>/dev/null | sed -n 's/^Version: *//p') (module $(tool_version notation))"
R=$NS/notation-$RUNID
SIG_TYPE=application/vnd.cncf.notary.signature

push_image() { # push_image LAYOUT REPO TAG
  timeout -k 10 "$T" skopeo copy --dest-tls-verify=false --dest-creds "$REG_USER:$REG_PASSWORD" \
    "oci:$1:v1" "docker://$REG/$2:$3"
}
setup() {
  make_image_layout "$WORK/unsigned" "an image nobody signs $RUNID" || return 1
  UNSIGNED_DIGEST=$IMAGE_DIGEST
  make_image_layout "$WORK/layout" "notation image $RUNID" || return 1
  push_image "$WORK/layout" "$R/app" v1 && push_image "$WORK/unsigned" "$R/app" unsigned &&
    push_image "$WORK/layout" "$R/tagschema" v1 || return 1
  eq "pushed" "$IMAGE_DIGEST" "$(reg_digest "$R/app" v1)" || return 1
  notation cert generate-test --default "berth-test" || return 1
  notation cert generate-test "berth-untrusted" || return 1
  # Trust only berth-test's certificate: drop berth-untrusted's from the trust store.
  notation cert delete --type ca --store "berth-untrusted" --all -y || return 1
  cat >"$WORK/policy.json" <<EOF
{
  "version": "1.0",
  "trustPolicies": [{
    "name": "berth-test-images",
    "registryScopes": ["$REG/$R/app", "$REG/$R/tagschema"],
    "signatureVerification": { "level": "strict" },
    "trustStores": ["ca:berth-test"],
    "trustedIdentities": ["*"]
  }]
}
EOF
  notation policy import --force "$WORK/policy.json"
}
login() {
  # `notation login` stores credentials only through a credential helper (it refuses to write a
  # plaintext password), and there is none here; it reads those `docker login` left in the Docker
  # config, so put them there and check that the login is accepted with them.
  jq -n --arg r "$REG" --arg a "$(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)" '{auths: {($r): {auth: $a}}}' \
    >"$DOCKER_CONFIG/config.json"
  notation ls --insecure-registry "$REG/$R/app@$IMAGE_DIGEST" || return 1
  # ... and that without them, the private image is refused.
  DOCKER_CONFIG=$WORK/empty refused bounded "$NOTATION" ls --insecure-registry "$REG/$R/app@$IMAGE_DIGEST"
}
sign_referrers() {
  notation sign --insecure-registry --force-referrers-tag=false "$REG/$R/app@$IMAGE_DIGEST" || return 1
  local r; r=$(reg_referrers "$R/app" "$IMAGE_DIGEST") || return 1
  echo "$r"
  eq "referrers (registry)" "1 $SIG_TYPE" "$(jq -r '"\(.manifests | length) \(.manifests[0].artifactType)"' <<<"$r")" || return 1
  SIG_DIGEST=$(jq -r '.manifests[0].digest' <<<"$r")
  local m; m=$(reg_manifest "$R/app" "$SIG_DIGEST") || return 1
  eq "signature subject" "$IMAGE_DIGEST" "$(jq -r .subject.digest <<<"$m")" || return 1
  eq "envelope media type" application/jose+json "$(jq -r '.layers[0].mediaType' <<<"$m")" || return 1
  # The JWS payload names exactly the signed manifest.
  local env payload
  env=$(reg_get "$R/app" "blobs/$(jq -r '.layers[0].digest' <<<"$m")" '*/*') || return 1
  payload=$(jq -r .payload <<<"$env" | tr '_-' '/+' | { p=$(cat); while [ $(( ${#p} % 4 )) -ne 0 ]; do p="$p="; done; printf '%s' "$p"; } | base64 -d)
  eq "signed digest" "$IMAGE_DIGEST" "$(jq -r .targetArtifact.digest <<<"$payload")" || return 1
  eq "no fallback tag" "unsigned v1" "$(reg_tags "$R/app" | tr '\n' ' ' | sed 's/ $//')"
}
list() {
  notation ls --insecure-registry "$REG/$R/app@$IMAGE_DIGEST" >"$WORK/ls.txt" || return 1
  cat "$WORK/ls.txt"
  grep -q "$SIG_DIGEST" "$WORK/ls.txt"
}
verify() {
  notation verify --insecure-registry "$REG/$R/app@$IMAGE_DIGEST" 2>&1 | tee "$WORK/verify.txt" || return 1
  grep -q "Successfully verified signature for $REG/$R/app@$IMAGE_DIGEST" "$WORK/verify.txt"
}
verify_refused() {
  # Refused for the reason named, in notation's words: a failure to reach the registry is no refusal.
  fails_with "signature verification failed: no signature is associated with" \
    notation verify --insecure-registry "$REG/$R/app@$UNSIGNED_DIGEST" || return 1
  # A signature made with a key whose certificate is not trusted is refused.
  notation sign --insecure-registry --force-referrers-tag=false --key berth-untrusted "$REG/$R/app@$UNSIGNED_DIGEST" || return 1
  fails_with "signature verification failed for all the signatures associated with" \
    notation verify --insecure-registry "$REG/$R/app@$UNSIGNED_DIGEST" || return 1
  eq "signatures on the unsigned image now" 1 "$(reg_referrers "$R/app" "$UNSIGNED_DIGEST" | jq '.manifests | length')"
}
sign_tag_schema() {
  notation sign --insecure-registry --force-referrers-tag=true "$REG/$R/tagschema@$IMAGE_DIGEST" || return 1
  local hex=${IMAGE_DIGEST#sha256:} idx
  eq "tags" "sha256-$hex v1" "$(reg_tags "$R/tagschema" | tr '\n' ' ' | sed 's/ $//')" || return 1
  idx=$(reg_manifest "$R/tagschema" "sha256-$hex") || return 1
  eq "fallback index lists the signature" "$SIG_TYPE" "$(jq -r '.manifests[0].artifactType' <<<"$idx")" || return 1
  notation verify --insecure-registry "$REG/$R/tagschema@$IMAGE_DIGEST"
}

check "images, two test certificates (one trusted), trust policy" setup || finish
check "credentials from the Docker config (and refused without)" login || finish
check "sign through the referrers API: a JWS naming the image, no fallback tag" sign_referrers || finish
check "ls lists the signature" list
check "verify under the trust policy" verify
check "verify refuses an unsigned image and an untrusted certificate" verify_refused
check "sign with the referrers tag schema (--force-referrers-tag), verify" sign_tag_schema
finish
