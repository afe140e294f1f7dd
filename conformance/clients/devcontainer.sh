#!/usr/bin/env bash
# The dev container CLI (@devcontainers/cli, npm) against Berth: features publish of two features
# with semver tags (and a second version moving the major/latest tags), features info manifest/tags,
# templates publish — the published layers unpack to exactly the sources, the collection metadata
# lists both features.
#
#   conformance/clients/devcontainer.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
#
# The CLI speaks plain HTTP only to `localhost:PORT`, so it is pointed at localhost with the port of
# REGISTRY_HOSTPORT (which must then be listening on 127.0.0.1). Credentials come from the Docker
# config file (auths entry), the way `docker login` leaves them.
CLIENT_NAME=devcontainer
. "$(dirname "$0")/lib.sh"
DC_DIR=$BERTH_BIN_CACHE/devcontainers-cli-$DEVCONTAINERS_CLI_VERSION
DC_JS=$DC_DIR/node_modules/@devcontainers/cli/devcontainer.js
if [ ! -f "$DC_JS" ]; then
  mkdir -p "$DC_DIR"
  HOME=$REAL_HOME timeout -k 10 300 npm install --prefix "$DC_DIR" --no-audit --no-fund --no-save \
    "@devcontainers/cli@$DEVCONTAINERS_CLI_VERSION" >>"$LOG" 2>&1 || { not_ok "npm install @devcontainers/cli@$DEVCONTAINERS_CLI_VERSION"; finish; }
fi
devcontainer() { bounded node "$DC_JS" "$@"; }
echo "# devcontainer CLI $(node "$DC_JS" --version 2>/dev/null)"
DREG=localhost:$REG_PORT
FNS=$NS/devc-$RUNID/features
TNS=$NS/devc-$RUNID/templates

setup() {
  # Credentials as `docker login` stores them.
  jq -n --arg r "$DREG" --arg a "$(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)" '{auths: {($r): {auth: $a}}}' \
    >"$DOCKER_CONFIG/config.json"
  local f
  mkdir -p "$WORK/features/src/hello" "$WORK/features/src/color"
  cat >"$WORK/features/src/hello/devcontainer-feature.json" <<EOF
{
  "id": "hello",
  "version": "1.0.2",
  "name": "Hello",
  "description": "Says hello (berth run $RUNID)",
  "options": { "greeting": { "type": "string", "default": "hey", "description": "what to say" } }
}
EOF
  cat >"$WORK/features/src/color/devcontainer-feature.json" <<EOF
{ "id": "color", "version": "2.1.0", "name": "Color", "description": "Favourite colour" }
EOF
  for f in hello color; do
    printf '#!/bin/sh\nset -e\nmkdir -p /usr/local/share\necho "%s feature %s" > /usr/local/share/%s.txt\n' "$f" "$RUNID" "$f" >"$WORK/features/src/$f/install.sh"
    chmod +x "$WORK/features/src/$f/install.sh"
  done
  mkdir -p "$WORK/templates/src/berth-demo/.devcontainer"
  cat >"$WORK/templates/src/berth-demo/devcontainer-template.json" <<EOF
{ "id": "berth-demo", "version": "0.3.1", "name": "Berth demo", "description": "template $RUNID", "options": {} }
EOF
  cat >"$WORK/templates/src/berth-demo/.devcontainer/devcontainer.json" <<EOF
{ "name": "berth demo $RUNID", "image": "debian:bookworm" }
EOF
}
features_publish() {
  devcontainer features publish "$WORK/features/src" --registry "$DREG" --namespace "$FNS" --log-level debug || return 1
  eq "hello tags" "1 1.0 1.0.2 latest" "$(reg_tags "$FNS/hello" | tr '\n' ' ' | sed 's/ $//')" || return 1
  eq "color tags" "2 2.1 2.1.0 latest" "$(reg_tags "$FNS/color" | tr '\n' ' ' | sed 's/ $//')" || return 1
  local d
  d=$(reg_digest "$FNS/hello" 1.0.2)
  for t in 1 1.0 latest; do eq "hello:$t" "$d" "$(reg_digest "$FNS/hello" "$t")" || return 1; done
}
feature_content() { # the layer unpacks to exactly the feature's sources
  local f m
  for f in hello color; do
    m=$(reg_manifest "$FNS/$f" latest) || return 1
    echo "$m"
    eq "$f layer media type" application/vnd.devcontainers.layer.v1+tar "$(jq -r '.layers[0].mediaType' <<<"$m")" || return 1
    eq "$f layer title" "devcontainer-feature-$f.tgz" "$(jq -r '.layers[0].annotations["org.opencontainers.image.title"]' <<<"$m")" || return 1
    mkdir -p "$WORK/unpacked/$f"
    reg_get "$FNS/$f" "blobs/$(jq -r '.layers[0].digest' <<<"$m")" '*/*' >"$WORK/$f.layer" || return 1
    eq "$f layer digest" "$(jq -r '.layers[0].digest' <<<"$m")" "sha256:$(sha256 <"$WORK/$f.layer")" || return 1
    tar -C "$WORK/unpacked/$f" -xf "$WORK/$f.layer" || return 1
    same_file "$f install.sh" "$WORK/features/src/$f/install.sh" "$WORK/unpacked/$f/install.sh" || return 1
    same_file "$f devcontainer-feature.json" "$WORK/features/src/$f/devcontainer-feature.json" "$WORK/unpacked/$f/devcontainer-feature.json" || return 1
  done
  # The collection metadata artifact (a plain JSON layer) lists both features.
  m=$(reg_manifest "$FNS" latest) || return 1
  eq "collection layer" "application/vnd.devcontainers.collection.layer.v1+json devcontainer-collection.json" \
    "$(jq -r '.layers[0] | "\(.mediaType) \(.annotations["org.opencontainers.image.title"])"' <<<"$m")" || return 1
  eq "collection features" "color hello" \
    "$(reg_get "$FNS" "blobs/$(jq -r '.layers[0].digest' <<<"$m")" '*/*' | jq -r '[.features[].id] | sort | join(" ")')"
}
info_manifest() {
  devcontainer features info manifest "$DREG/$FNS/hello:1" --output-format json >"$WORK/info.json" || return 1
  cat "$WORK/info.json"
  eq "manifest from info" "$(reg_manifest "$FNS/hello" 1 | jq -cS .)" "$(jq -cS .manifest "$WORK/info.json")" || return 1
  eq "canonical id" "$DREG/$FNS/hello@$(reg_digest "$FNS/hello" 1)" "$(jq -r .canonicalId "$WORK/info.json")"
}
info_tags() {
  devcontainer features info tags "$DREG/$FNS/hello" --output-format json >"$WORK/tags.json" || return 1
  cat "$WORK/tags.json"
  eq "published tags" "1 1.0 1.0.2 latest" "$(jq -r '.publishedTags | sort | join(" ")' "$WORK/tags.json")"
}
republish() { # a new minor version moves 1 and latest, keeps 1.0 and 1.0.2
  local old; old=$(reg_digest "$FNS/hello" 1.0.2)
  jq '.version = "1.1.0"' "$WORK/features/src/hello/devcontainer-feature.json" >"$WORK/h.json" &&
    mv "$WORK/h.json" "$WORK/features/src/hello/devcontainer-feature.json"
  rm -rf "$WORK/features/src/color"
  devcontainer features publish "$WORK/features/src" --registry "$DREG" --namespace "$FNS" || return 1
  eq "hello tags" "1 1.0 1.0.2 1.1 1.1.0 latest" "$(reg_tags "$FNS/hello" | tr '\n' ' ' | sed 's/ $//')" || return 1
  local new; new=$(reg_digest "$FNS/hello" 1.1.0)
  [ "$new" != "$old" ] || { echo "1.1.0 has the digest of 1.0.2"; return 1; }
  eq "1.0 stays" "$old" "$(reg_digest "$FNS/hello" 1.0)" || return 1
  eq "1 moves" "$new" "$(reg_digest "$FNS/hello" 1)" || return 1
  eq "latest moves" "$new" "$(reg_digest "$FNS/hello" latest)"
}
templates_publish() {
  devcontainer templates publish "$WORK/templates/src" --registry "$DREG" --namespace "$TNS" || return 1
  eq "template tags" "0 0.3 0.3.1 latest" "$(reg_tags "$TNS/berth-demo" | tr '\n' ' ' | sed 's/ $//')" || return 1
  local m; m=$(reg_manifest "$TNS/berth-demo" 0.3.1) || return 1
  mkdir -p "$WORK/tpl"
  reg_get "$TNS/berth-demo" "blobs/$(jq -r '.layers[0].digest' <<<"$m")" '*/*' | tar -C "$WORK/tpl" -xf - || return 1
  same_file "template devcontainer.json" "$WORK/templates/src/berth-demo/.devcontainer/devcontainer.json" "$WORK/tpl/.devcontainer/devcontainer.json"
}

# ---------------------------------------------------------------------------
# A dev container build through the Docker engine: devcontainer.json names a base image and a feature,
# both stored in Berth. A private dockerd (vfs, no iptables, no bridge) under $WORK, stopped by PID.
# ---------------------------------------------------------------------------
DOCKERD_PID=""
workflow_cleanup() {
  [ -n "$DOCKERD_PID" ] || return 0
  local i d=$WORK/d cpid
  kill -TERM "$DOCKERD_PID" 2>/dev/null
  for i in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    kill -KILL "$DOCKERD_PID" 2>/dev/null
    cpid=$(cat "$d/exec/containerd/containerd.pid" 2>/dev/null || true)
    if [ -n "$cpid" ] && tr '\0' ' ' <"/proc/$cpid/cmdline" 2>/dev/null | grep -qF "$d/exec/containerd/"; then kill -KILL "$cpid" 2>/dev/null; fi
  fi
  wait "$DOCKERD_PID" 2>/dev/null
  DOCKERD_PID=""
}
DOCKER=""
dkr() { bounded "$DOCKER" "$@"; }
docker_start() {
  local d=$WORK/d i
  if [ -n "${DOCKER_CLI:-}" ]; then DOCKER=$DOCKER_CLI
  elif [ -x /usr/bin/docker ] && [ "$(command -v dockerd)" = /usr/sbin/dockerd ]; then DOCKER=/usr/bin/docker
  else DOCKER=$(command -v docker); fi
  command -v dockerd >/dev/null && [ -n "$DOCKER" ] || { echo "dockerd or docker missing"; return 1; }
  mkdir -p "$d"
  dockerd --data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/pid" --host "unix://$d/docker.sock" \
    --storage-driver vfs --iptables=false --ip6tables=false --bridge=none >"$d/log" 2>&1 &
  DOCKERD_PID=$!
  export DOCKER_HOST=unix://$d/docker.sock
  for i in $(seq 1 60); do
    if timeout 10 "$DOCKER" info >/dev/null 2>&1; then return 0; fi
    kill -0 "$DOCKERD_PID" 2>/dev/null || { echo "dockerd exited:"; tail -n 20 "$d/log"; return 1; }
    sleep 1
  done
  echo "docker info did not answer within 60s"; return 1
}
base_image() { # a busybox root filesystem with every applet, pushed to Berth with docker push
  local root=$WORK/rootfs a
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp "${BUSYBOX:-/bin/busybox}" "$root/bin/busybox" || return 1
  for a in $("$root/bin/busybox" --list); do [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"; printf 'root:x:0:\n' >"$root/etc/group"
  tar -C "$root" -c . | dkr import -c 'ENV PATH=/bin' - "$DREG/$NS/devc-$RUNID/base:1" || return 1
  dkr push "$DREG/$NS/devc-$RUNID/base:1" || return 1
  dkr rmi "$DREG/$NS/devc-$RUNID/base:1" >/dev/null || return 1
  reg_digest "$NS/devc-$RUNID/base" 1
}
devcontainer_build() {
  local w=$WORK/workspace
  mkdir -p "$w/.devcontainer"
  jq -n --arg img "$DREG/$NS/devc-$RUNID/base:1" --arg f "$DREG/$FNS/hello:1" \
    '{name: "berth", image: $img, features: {($f): {greeting: "hi"}}}' >"$w/.devcontainer/devcontainer.json"
  devcontainer build --workspace-folder "$w" --docker-path "$DOCKER" --image-name "local/devc-built:1" --log-level debug || return 1
  local got; got=$(dkr run --rm --network none local/devc-built:1 cat /usr/local/share/hello.txt) || return 1
  eq "file written by the feature from Berth" "hello feature $RUNID" "$got"
}

check "two features, a template, Docker-config credentials" setup || finish
check "features publish: two features, semver tags 1/1.0/1.0.2/latest" features_publish || finish
check "published layers unpack to the sources; collection metadata lists both" feature_content
check "features info manifest: the registry's manifest and canonical id" info_manifest
check "features info tags" info_tags
check "publish 1.1.0: 1 and latest move, 1.0 and 1.0.2 stay" republish
check "templates publish: semver tags, layer holds the template" templates_publish
if check "Docker engine: private dockerd" docker_start; then
  check "Docker engine: busybox base image pushed to Berth (localhost:PORT)" base_image &&
    check "devcontainer build: image and feature from Berth, the feature's file in the built image" devcontainer_build
fi
finish
