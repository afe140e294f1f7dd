#!/usr/bin/env bash
# Webhooks with real clients (issue #16): the Docker engine pushes, and a receiver written the way GitHub's users
# write theirs (@octokit/webhooks' Node middleware, which refuses any delivery whose signature does not verify)
# gets GitHub's `package` event. A tagged push is one `published` event naming the tag, the digest and the pusher;
# a multi-platform push with `docker manifest push` (platform images from a staging package, the list pushed to
# the published one) is exactly one event listing both platforms. The hook's delivery log, read through GitHub's
# hooks API, shows every delivery answered 2xx by the receiver.
#
#   conformance/clients/webhooks.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
# The Berth under test must allow hooks to 127.0.0.1 (BERTH_WEBHOOK_ALLOWED_HOSTS=127.0.0.1).
CLIENT_NAME=webhooks
. "$(dirname "$0")/lib.sh"
need_tool dockerd || finish
DOCKER=$(pick_docker_cli)
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { not_ok "busybox-static missing ($BUSYBOX)"; finish; }
ORG=hooks-$RUNID
SECRET=hook-secret-$RUNID
EVENTS=$WORK/events.jsonl
API=http://$REG/api/v3
api() { curl -fsS --max-time 30 -u "$REG_USER:$REG_PASSWORD" -H 'Content-Type: application/json' "$@"; }

setup() {
  dk_start || return 1
  printf '%s\n' "$REG_PASSWORD" | dkr login "$REG" -u "$REG_USER" --password-stdin || return 1
  api -d "{\"name\":\"$ORG\"}" "http://$REG/api/v1/orgs" >/dev/null || return 1
  : >"$EVENTS"
  node "$CLIENTS_DIR/hook-receiver.mjs" "$SECRET" "$EVENTS" "$WORK/port" >>"$LOG" 2>&1 &
  BG_PIDS="$BG_PIDS $!"
  local i
  for i in $(seq 1 50); do [ -s "$WORK/port" ] && break; sleep 0.2; done
  [ -s "$WORK/port" ] || { echo "the receiver did not start"; return 1; }
  HOOK_ID=$(api -d "$(jq -cn --arg url "http://127.0.0.1:$(cat "$WORK/port")/hook" --arg secret "$SECRET" \
    '{name: "web", config: {url: $url, content_type: "json", secret: $secret}, events: ["package"], active: true}')" \
    "$API/orgs/$ORG/hooks" | jq -r .id) || return 1
  [ -n "$HOOK_ID" ] && [ "$HOOK_ID" != null ] || return 1
  eq "the hook's ping arrived, verified" ping "$(wait_events '.name == "ping"' 1 | jq -r .name)"
}

# wait_events JQ_FILTER COUNT: the verified events matching the filter once COUNT have arrived (30 s at most).
wait_events() {
  local i
  for i in $(seq 1 150); do
    [ "$(jq -c "select($1)" "$EVENTS" | wc -l)" -ge "$2" ] && break
    sleep 0.2
  done
  jq -c "select($1)" "$EVENTS"
}
of_package() { echo ".name == \"package\" and .payload.package.name == \"$1\""; }

# One image from the offline busybox root (a file says what it is), imported and pushed by the engine.
push_image() { # push_image REF TEXT [PLATFORM]: sets PUSHED to the digest the engine printed
  local root=$WORK/rootfs
  mkdir -p "$root/bin"
  cp "$BUSYBOX" "$root/bin/busybox" && ln -sf busybox "$root/bin/sh" || return 1
  echo "$2" >"$root/what"
  tar -C "$root" -c . | dkr import ${3:+--platform "$3"} - "$1" || return 1
  dkr push "$1" | tee "$WORK/push.out" || return 1
  PUSHED=$(push_digest "$WORK/push.out")
  [ -n "$PUSHED" ]
}

tagged_push() {
  push_image "$REG/$ORG/app:v1" "app $RUNID" || return 1
  local event
  event=$(wait_events "$(of_package app)" 1) || return 1
  jq -c '{action: .payload.action, tag: .payload.package.package_version.container_metadata.tag, sender: .payload.sender.login}' <<<"$event"
  eq "action" published "$(jq -r .payload.action <<<"$event")" || return 1
  eq "tag and digest" "v1 $PUSHED" "$(jq -r '.payload.package.package_version.container_metadata.tag | "\(.name) \(.digest)"' <<<"$event")" || return 1
  eq "namespace" "$ORG" "$(jq -r .payload.package.namespace <<<"$event")" || return 1
  eq "sender (the pusher)" "$REG_USER" "$(jq -r .payload.sender.login <<<"$event")" || return 1
  eq "installation command" "docker pull $REG/$ORG/app:v1" "$(jq -r .payload.package.package_version.installation_command <<<"$event")"
}

multi_platform_push() {
  local arch
  for arch in amd64 arm64; do
    push_image "$REG/$ORG/staging:$arch" "$arch $RUNID" "linux/$arch" || return 1
    printf -v "DIGEST_${arch^^}" '%s' "$PUSHED"
  done
  dkr manifest create --insecure "$REG/$ORG/multi:v1" "$REG/$ORG/staging@$DIGEST_AMD64" "$REG/$ORG/staging@$DIGEST_ARM64" || return 1
  dkr manifest annotate "$REG/$ORG/multi:v1" "$REG/$ORG/staging@$DIGEST_ARM64" --os linux --arch arm64 || return 1
  dkr manifest push --insecure "$REG/$ORG/multi:v1" | tee "$WORK/push-list.out" || return 1
  LIST_DIGEST=$(tail -n 1 "$WORK/push-list.out")
  wait_events "$(of_package multi)" 1 >/dev/null
  sleep 3 # anything more for this push would have arrived by now (a burst is folded within a second)
  local events
  events=$(jq -c "select($(of_package multi))" "$EVENTS")
  eq "events for the list's package" 1 "$(grep -c . <<<"$events")" || return 1
  eq "action and digest" "published $LIST_DIGEST" "$(jq -r '"\(.payload.action) \(.payload.package.package_version.container_metadata.manifest.digest)"' <<<"$events")" || return 1
  eq "platforms listed" "amd64 $DIGEST_AMD64 arm64 $DIGEST_ARM64" \
    "$(jq -r '[.payload.package.package_version.container_metadata.manifest.platforms[] | "\(.architecture) \(.digest)"] | sort | join(" ")' <<<"$events")"
}

delivery_log() {
  api "$API/orgs/$ORG/hooks/$HOOK_ID/deliveries?per_page=100" >"$WORK/deliveries.json" || return 1
  jq -c '[.[] | {event, action, status_code}]' "$WORK/deliveries.json"
  eq "deliveries the receiver refused" 0 "$(jq '[.[] | select(.status_code < 200 or .status_code > 299)] | length' "$WORK/deliveries.json")" || return 1
  eq "deliveries logged = events received" "$(wc -l <"$EVENTS")" "$(jq length "$WORK/deliveries.json")"
}

check "setup: private dockerd, docker login, an organisation, an @octokit/webhooks receiver, an org hook (ping)" setup || finish
check "docker push of a tagged image: one package published event (tag, digest, sender), signature verified" tagged_push
check "docker manifest push of a two-platform list: exactly one event for it, listing both platforms" multi_platform_push
check "the hook's delivery log (GitHub's hooks API): every delivery answered 2xx, one per event received" delivery_log
finish
