#!/usr/bin/env bash
# Installs the Debian packages the test suites drive (real clients and the
# servers they need), only those missing: a machine that has them pays nothing.
set -euo pipefail
packages=(
  curl python3 jq
  skopeo podman buildah umoci   # containers-image clients
  docker.io                     # the Docker engine and its CLI
  busybox-static                # a static busybox for offline base images
  redis-server                  # upload sessions of the scale-out configuration
  postgresql                    # the PostgreSQL configuration (DATABASE_URL)
  docker-registry               # CNCF Distribution 2.8.2: the pull-through cache's upstream, a promotion's target
  mmdebstrap                    # assembles the Debian base for the Dockerfile check offline from Docker Hub
  chromium                      # the browser the web pages' check drives (conformance/web)
)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Wait (bounded) for another apt run to release its lock rather than failing at once.
apt_opts=(-o DPkg::Lock::Timeout=600 -y -qq)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install "${missing[@]}" >/dev/null
