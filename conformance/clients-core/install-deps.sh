#!/usr/bin/env bash
# Installs the real clients run.sh drives (Debian/Ubuntu, apt). Idempotent: when
# everything is present it only checks and exits, without touching the network.
#
#   conformance/clients-core/install-deps.sh
set -eu

# tool-to-check  package-providing-it
DEPS=(
  "skopeo:skopeo"
  "podman:podman"
  "buildah:buildah"
  "umoci:umoci"
  "dockerd:docker.io"
  "docker:docker.io"
  "jq:jq"
  "curl:curl"
  "timeout:coreutils"
)

missing=()
for dep in "${DEPS[@]}"; do
  tool=${dep%%:*} pkg=${dep#*:}
  command -v "$tool" >/dev/null 2>&1 || missing+=("$pkg")
done
# busybox-static is checked as a package: a dynamic /bin/busybox from the `busybox`
# package would not run inside the library-less base image run.sh builds.
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)

if [ ${#missing[@]} -eq 0 ]; then
  echo "clients-core: all dependencies present"
  exit 0
fi

# De-duplicate (docker.io covers two tools).
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "clients-core: installing ${missing[*]}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install packages" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# Wait (bounded) for another apt/dpkg run to release its lock instead of failing at once.
APT_OPTS=(-o DPkg::Lock::Timeout=600 -y)
$SUDO apt-get "${APT_OPTS[@]}" update
$SUDO apt-get "${APT_OPTS[@]}" install "${missing[@]}"
echo "clients-core: done"
