#!/usr/bin/env bash
# Installs the Debian packages the test suites drive, only those missing, so a
# machine that has them already pays nothing.
set -euo pipefail
needed=()
want() { dpkg -s "$1" >/dev/null 2>&1 || needed+=("$1"); }
for p in curl python3 jq skopeo podman buildah umoci docker.io busybox-static; do want "$p"; done
if [ ${#needed[@]} -gt 0 ]; then
  echo "installing: ${needed[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi
