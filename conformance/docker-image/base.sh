# The base image for Berth's Dockerfile where there is no Docker Hub: a Debian bookworm
# minbase (mmdebstrap, from Debian's packages) plus this machine's Node >= 20 (bookworm's
# own nodejs is 18, below Berth's engines), under the same prefix it was built for, so
# node-gyp finds the headers there instead of downloading them, and this machine's CA
# bundle, so npm in a build trusts whatever TLS proxy the machine's own npm trusts.
# Sourced by run.sh; `base_tarball` prints the path of the cached tarball, assembling it
# first when the cache has none for these inputs; `base_import TAR TAG` loads it into
# the engine with the environment node needs.

BASE_SUITE=bookworm
BASE_MIRROR=${BERTH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_SCRIPT=${BASH_SOURCE[0]}
BASE_CA=/etc/ssl/certs/ca-certificates.crt

# node's installation prefix (/usr for Debian-style packages, /usr/local for nodejs.org's).
node_prefix() { dirname "$(dirname "$(readlink -f "$(command -v node)")")"; }

base_tarball() {
  local node_prefix npm_dir key cache out
  node_prefix=$(node_prefix) || return 1
  npm_dir=$node_prefix/lib/node_modules/npm
  if [ "$(node -p 'process.versions.node.split(".")[0] >= 20')" != true ]; then
    echo "node $(node -v) is below Berth's engines (>= 20)" >&2; return 1
  fi
  for f in "$node_prefix/bin/node" "$npm_dir/package.json" "$node_prefix/include/node/node_version.h" "$BASE_CA"; do
    [ -f "$f" ] || { echo "missing $f (node, npm, node's headers under node's prefix, the CA bundle)" >&2; return 1; }
  done
  # Keyed by everything that goes in: suite, mirror, the node binary, npm, CAs, this script.
  key=$( { echo "$BASE_SUITE $BASE_MIRROR $node_prefix"; sha256sum "$node_prefix/bin/node";
           cat "$npm_dir/package.json" "$BASE_CA" "$BASE_SCRIPT"; } | sha256sum | cut -c1-16)
  cache=${BERTH_BIN_CACHE:-$HOME/.cache/berth/bin}
  out=$cache/docker-base-$BASE_SUITE-node-$key.tar
  if [ -f "$out" ] && [ -s "$out" ]; then echo "$out"; return 0; fi
  mkdir -p "$cache" || return 1
  echo "# assembling the base image with mmdebstrap (cached as $out)" >&2
  local rel=${node_prefix#/} tmp=$cache/.partial-$$-${out##*/}   # mmdebstrap picks the format by the .tar ending
  # The hooks copy node, npm, the headers and the CA bundle into the new root ($1).
  timeout -k 10 600 mmdebstrap --variant=minbase --quiet \
    --customize-hook="tar -C / -c $rel/bin/node $rel/lib/node_modules/npm $rel/include/node ${BASE_CA#/} | tar -C \"\$1\" -x" \
    --customize-hook="ln -sf ../lib/node_modules/npm/bin/npm-cli.js \"\$1/$rel/bin/npm\"" \
    --customize-hook="ln -sf ../lib/node_modules/npm/bin/npx-cli.js \"\$1/$rel/bin/npx\"" \
    "$BASE_SUITE" "$tmp" "$BASE_MIRROR" >&2 || { rm -rf "$tmp"; return 1; }
  mv "$tmp" "$out" && echo "$out"
}

# base_import TAR TAG: node-gyp is pointed at the copied headers, node at the CA bundle.
base_import() {
  dkr import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV npm_config_nodedir=$(node_prefix)" \
    --change "ENV NODE_EXTRA_CA_CERTS=$BASE_CA" \
    "$1" "$2"
}
