#!/usr/bin/env bash
# The web pages (issue #17) in a real browser: Debian's chromium driven by playwright-core, axe-core
# run in every page visited, against its own Berth (token auth) holding real pushes: a tagged image
# built and pushed by the Docker engine (its description label hostile), a two-platform index (skopeo),
# a cosign signature and an oras SBOM attached to the index, and a private image.
#
#   conformance/web/run.sh
#
# Screenshots of every page visited go to $BERTH_WEB_ARTIFACTS (default conformance/web/artifacts/,
# git-ignored). Prints `ok - NAME` / `not ok - NAME` and `N passed, N failed`; exit 0 only when all passed.
set -u
set -o pipefail
REPO_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO_ROOT/conformance/lib.sh"
. "$REPO_ROOT/conformance/clients-lib.sh"
. "$REPO_ROOT/conformance/clients/tools.sh"
clients_workspace berth-web
# clients_cleanup (the EXIT trap) calls this before it stops the engine.
workflow_cleanup() { berth_stop; }

ARTIFACTS=${BERTH_WEB_ARTIFACTS:-$REPO_ROOT/conformance/web/artifacts}
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -x "$CHROMIUM" ] || { echo "not ok - chromium is not installed (conformance/install-system-deps.sh)"; exit 1; }
COSIGN=$(tool_path cosign); ORAS=$(tool_path oras)
for t in cosign oras; do tool_install "$t" || { echo "not ok - cannot build $t"; exit 1; }; done
rm -rf "$ARTIFACTS" && mkdir -p "$ARTIFACTS"

ADMIN_PW=web-admin-$RANDOM$RANDOM
# The browser run adds a webhook pointing at its own receiver on 127.0.0.1.
berth_start "$WORK/berth" BERTH_ADMIN_PASSWORD="$ADMIN_PW" BERTH_WEBHOOK_ALLOWED_HOSTS=127.0.0.1 || exit 1
REG=$BERTH_HOSTPORT
echo "# Berth $BERTH_URL (pid $BERTH_PID), work dir $WORK, screenshots in $ARTIFACTS"
containers_config "$REG"
DOCKER=$(pick_docker_cli)
BUSYBOX=${BUSYBOX:-/bin/busybox}
pw() { echo "$1-web-password"; }
api() { # api USER METHOD PATH [JSON]
  local user=$1 password
  if [ "$user" = admin ]; then password=$ADMIN_PW; else password=$(pw "$user"); fi
  curl -fsS -u "$user:$password" -H 'Content-Type: application/json' -X "$2" "$BERTH_URL$3" ${4:+-d "$4"} >>"$LOG"
}
HOSTILE='<script>window.__pwned=1</script> "><img src=x onerror=window.__pwned=2> The web frontend'

accounts() {
  for u in alice bob eve; do api admin POST /api/v1/users "{\"name\":\"$u\",\"password\":\"$(pw "$u")\"}" || return 1; done
  api alice POST /api/v1/orgs '{"name":"acme"}' || return 1
  api alice PUT /api/v1/orgs/acme/members/bob '{"role":"member"}'
}

docker_push() { # the tagged image, built by the engine, and a second (private) one
  dk_start || return 1
  dk_import_base || return 1
  pw alice | dkr login -u alice --password-stdin "$REG" >>"$LOG" 2>&1 || return 1
  mkdir -p "$WORK/ctx" && printf 'FROM local/base:1\nENV GREETING=hello API_TOKEN=not-for-the-page\nEXPOSE 8080\nCMD ["/bin/echo","hi"]\n' >"$WORK/ctx/Dockerfile"
  dkr build -q -t "$REG/acme/web:1.0" \
    --label "org.opencontainers.image.description=$HOSTILE" \
    --label org.opencontainers.image.licenses=Apache-2.0 \
    --label org.opencontainers.image.source=https://github.com/acme/web \
    --label org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567 \
    "$WORK/ctx" >>"$LOG" 2>&1 || return 1
  dkr push "$REG/acme/web:1.0" >>"$LOG" 2>&1 || return 1
  dkr tag "$REG/acme/web:1.0" "$REG/acme/internal:1.0" && dkr push "$REG/acme/internal:1.0" >>"$LOG" 2>&1
}

# A two-platform OCI index as a layout (tar, gzip, jq only), pushed by skopeo.
put_blob() { # put_blob LAYOUT FILE MEDIATYPE -> descriptor JSON
  local dg size; dg=$(sha256sum <"$2" | cut -d' ' -f1); size=$(stat -c %s "$2")
  mkdir -p "$1/blobs/sha256" && cp "$2" "$1/blobs/sha256/$dg"
  jq -cn --arg mt "$3" --arg dg "sha256:$dg" --argjson size "$size" '{mediaType:$mt, digest:$dg, size:$size}'
}
index_push() {
  local L=$WORK/multi arch tmp layer config manifest descs=()
  mkdir -p "$L" && echo '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
  for arch in amd64 arm64; do
    tmp=$(mktemp -d "$WORK/mk.XXXXXX"); mkdir -p "$tmp/root"; echo "web for $arch" >"$tmp/root/hello.txt"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/root" -cf "$tmp/layer.tar" . || return 1
    gzip -n -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
    layer=$(put_blob "$L" "$tmp/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip) || return 1
    jq -cn --arg arch "$arch" --arg diff "sha256:$(sha256sum <"$tmp/layer.tar" | cut -d' ' -f1)" \
      '{architecture:$arch, os:"linux", config:{Cmd:["/hello.txt"]}, rootfs:{type:"layers", diff_ids:[$diff]}}' >"$tmp/config.json"
    config=$(put_blob "$L" "$tmp/config.json" application/vnd.oci.image.config.v1+json) || return 1
    jq -cn --argjson c "$config" --argjson l "$layer" \
      '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json", config:$c, layers:[$l]}' >"$tmp/manifest.json"
    manifest=$(put_blob "$L" "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json) || return 1
    descs+=("$(jq -c --arg arch "$arch" '. + {platform:{os:"linux", architecture:$arch}}' <<<"$manifest")")
  done
  jq -cn --argjson m "$(printf '%s\n' "${descs[@]}" | jq -cs .)" \
    '{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json", manifests:$m}' >"$WORK/index.json"
  local index; index=$(put_blob "$L" "$WORK/index.json" application/vnd.oci.image.index.v1+json) || return 1
  jq -cn --argjson i "$index" '{schemaVersion:2, manifests:[$i + {annotations:{"org.opencontainers.image.ref.name":"multi"}}]}' >"$L/index.json"
  INDEX_DIGEST=$(jq -r .digest <<<"$index")
  skopeo copy --all --dest-tls-verify=false --dest-creds "alice:$(pw alice)" "oci:$L:multi" "docker://$REG/acme/web:multi" >>"$LOG" 2>&1
}

sign_and_attach() { # a cosign signature (OCI 1.1 referrers) and an oras SBOM on the index
  (
    cd "$WORK" || exit 1
    export COSIGN_PASSWORD="" COSIGN_YES=true COSIGN_EXPERIMENTAL=1 TUF_ROOT=$WORK/sigstore
    timeout -k 10 "$T" "$COSIGN" generate-key-pair >>"$LOG" 2>&1 || exit 1
    timeout -k 10 "$T" "$COSIGN" login "$REG" -u alice -p "$(pw alice)" >>"$LOG" 2>&1 || exit 1
    timeout -k 10 "$T" "$COSIGN" sign --key cosign.key --tlog-upload=false --allow-http-registry \
      --registry-referrers-mode=oci-1-1 "$REG/acme/web@$INDEX_DIGEST" >>"$LOG" 2>&1 || exit 1
    printf '{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"web","dataLicense":"CC0-1.0"}\n' >sbom.spdx.json
    pw alice | timeout -k 10 "$T" "$ORAS" login --plain-http -u alice --password-stdin "$REG" >>"$LOG" 2>&1 || exit 1
    timeout -k 10 "$T" "$ORAS" attach --plain-http --artifact-type application/spdx+json \
      "$REG/acme/web@$INDEX_DIGEST" sbom.spdx.json:application/spdx+json >>"$LOG" 2>&1
  )
}

browse() {
  BERTH_URL=$BERTH_URL CHROMIUM=$CHROMIUM ARTIFACTS=$ARTIFACTS PULL_FILE=$WORK/pull-command.txt \
    ALICE_PW=$(pw alice) BOB_PW=$(pw bob) EVE_PW=$(pw eve) \
    timeout -k 10 600 node "$REPO_ROOT/conformance/web/browse.mjs"
}

pull_copied() { # the pull command the browser copied, run as it is by the Docker engine
  local cmd; cmd=$(cat "$WORK/pull-command.txt") || return 1
  echo "# copied: $cmd"
  case $cmd in "docker pull $REG/acme/web:"*) ;; *) echo "# unexpected command"; return 1 ;; esac
  dkr logout "$REG" >>"$LOG" 2>&1
  dkr rmi "${cmd#docker pull }" >>"$LOG" 2>&1
  dkr pull "${cmd#docker pull }" >>"$LOG" 2>&1
}

check "accounts: alice, bob (member of acme), eve (outsider)" accounts || finish
check "skopeo: push a two-platform index as acme/web:multi" index_push || finish
check "cosign signature (referrers mode) and oras SBOM on the index" sign_and_attach || finish
# Last, so that it is the package's latest version, whose labels the page and search show.
check "docker engine: build with a hostile description label and push acme/web:1.0, and private acme/internal:1.0" docker_push || finish
check "chromium: search, package tree, copy, visibility, tokens, delete/restore, webhooks and their log, hostile text inert, axe clean" browse
check "docker pull with the command copied from the page (anonymous: the package was made public in the browser)" pull_copied
finish
