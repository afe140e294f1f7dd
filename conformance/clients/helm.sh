#!/usr/bin/env bash
# helm against Berth: package a chart, registry login, push to oci:// (plain HTTP), pull and show chart
# of the pushed version, template from the pulled chart — the pulled .tgz byte-identical to the pushed
# one and the registry's manifest carrying the Helm media types.
#
#   conformance/clients/helm.sh REGISTRY_HOSTPORT USER PASSWORD     (see lib.sh for the environment)
CLIENT_NAME=helm
. "$(dirname "$0")/lib.sh"
HELM=$(need helm)
helm() { bounded "$HELM" "$@"; }
echo "# $("$HELM" version --short 2>/dev/null) (module $(tool_version helm))"

REPO=$NS/helm-$RUNID            # charts are pushed under oci://$REG/$REPO/<chart name>
CHART=berth-demo
VERSION=0.1.$((RUNID % 100000))

make_chart() {
  local c=$WORK/chart/$CHART
  mkdir -p "$c/templates"
  cat >"$c/Chart.yaml" <<EOF
apiVersion: v2
name: $CHART
description: A chart pushed by Berth's client conformance run
type: application
version: $VERSION
appVersion: "run-$RUNID"
EOF
  cat >"$c/values.yaml" <<EOF
greeting: hello from berth
replicas: 2
EOF
  cat >"$c/templates/configmap.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  greeting: {{ .Values.greeting | quote }}
  replicas: {{ .Values.replicas | quote }}
  chart: {{ .Chart.Name }}-{{ .Chart.Version }}
EOF
  helm package "$c" -d "$WORK/pkg" || return 1
  TGZ=$WORK/pkg/$CHART-$VERSION.tgz
  [ -s "$TGZ" ]
}
login() {
  printf '%s' "$REG_PASSWORD" | helm registry login "$REG" --plain-http -u "$REG_USER" --password-stdin
}
push() {
  helm push "$TGZ" "oci://$REG/$REPO" --plain-http 2>&1 | tee "$WORK/push.out" || return 1
  PUSH_DIGEST=$(sed -n 's/^Digest: *\(sha256:[0-9a-f]*\).*/\1/p' "$WORK/push.out")
  eq "digest printed by push vs registry" "$PUSH_DIGEST" "$(reg_digest "$REPO/$CHART" "$VERSION")" || return 1
  local m; m=$(reg_manifest "$REPO/$CHART" "$VERSION") || return 1
  echo "$m"
  eq "config media type" application/vnd.cncf.helm.config.v1+json "$(jq -r .config.mediaType <<<"$m")" || return 1
  eq "chart layer: media type and digest of the .tgz" \
    "application/vnd.cncf.helm.chart.content.v1.tar+gzip sha256:$(sha256 <"$TGZ")" \
    "$(jq -r '.layers[] | select(.mediaType | test("chart.content")) | "\(.mediaType) \(.digest)"' <<<"$m")" || return 1
  # Helm's chart config is the Chart.yaml metadata as JSON.
  eq "config blob: name and version" "$CHART $VERSION" \
    "$(reg_get "$REPO/$CHART" "blobs/$(jq -r .config.digest <<<"$m")" '*/*' | jq -r '"\(.name) \(.version)"')"
}
pull() {
  mkdir -p "$WORK/pulled" "$WORK/pulled-by-digest"   # helm pull -d does not create the directory
  helm pull "oci://$REG/$REPO/$CHART" --version "$VERSION" --plain-http -d "$WORK/pulled" || return 1
  same_file "pulled chart" "$TGZ" "$WORK/pulled/$CHART-$VERSION.tgz" || return 1
  # And by digest.
  helm pull "oci://$REG/$REPO/$CHART@$PUSH_DIGEST" --plain-http -d "$WORK/pulled-by-digest" || return 1
  same_file "chart pulled by digest" "$TGZ" "$(ls "$WORK"/pulled-by-digest/*.tgz | head -n 1)"
}
show() {
  helm show chart "oci://$REG/$REPO/$CHART" --version "$VERSION" --plain-http >"$WORK/show.yaml" || return 1
  cat "$WORK/show.yaml"
  grep -qx "name: $CHART" "$WORK/show.yaml" && grep -qx "version: $VERSION" "$WORK/show.yaml" &&
    grep -qx "appVersion: run-$RUNID" "$WORK/show.yaml"
}
template() {
  helm template rel1 "$WORK/pulled/$CHART-$VERSION.tgz" --set replicas=3 >"$WORK/out.yaml" || return 1
  cat "$WORK/out.yaml"
  grep -q '^  name: rel1-config$' "$WORK/out.yaml" && grep -q '^  greeting: "hello from berth"$' "$WORK/out.yaml" &&
    grep -q '^  replicas: "3"$' "$WORK/out.yaml" && grep -q "^  chart: $CHART-$VERSION\$" "$WORK/out.yaml"
}
template_oci() {
  # Straight from the registry, as `helm install oci://…` would read it.
  helm template rel2 "oci://$REG/$REPO/$CHART" --version "$VERSION" --plain-http >"$WORK/out2.yaml" || return 1
  grep -q '^  name: rel2-config$' "$WORK/out2.yaml"
}
logout() {
  helm registry logout "$REG" || return 1
  mkdir -p "$WORK/anon"
  refused helm pull "oci://$REG/$REPO/$CHART" --version "$VERSION" --plain-http -d "$WORK/anon"
}

check "package a chart" make_chart || finish
check "registry login --password-stdin" login || finish
check "push oci:// (--plain-http): Helm media types, layer = the .tgz" push || finish
check "pull by version and by digest: identical .tgz" pull
check "show chart" show
check "template from the pulled chart" template
check "template straight from oci://" template_oci
check "registry logout: private chart no longer pullable" logout
finish
