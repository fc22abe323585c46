#!/usr/bin/env bash
# Builds the pinned Go programs of scripts/tools.txt into a cache keyed by name and version:
#   $TOOLS_CACHE/<name>-<version>/bin/<program>
# TOOLS_CACHE defaults to .tools/ in the project (git-ignored); .ci/run points it at a folder outside
# the clone so a fresh clone on the same machine builds nothing. A tool whose folder is complete is
# skipped, so a second run costs nothing. Usage: scripts/build-tools.sh [name...] (default: all).
# Exit status 0 when every requested tool is built or cached; 1 when any failed (the reason is printed),
# so callers can go on and let the tests that need the tool skip with that reason.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TOOLS_CACHE:-$root/.tools}
list=$root/scripts/tools.txt
mkdir -p "$cache"

if ! command -v go >/dev/null 2>&1; then
  echo "build-tools: go is not on PATH; nothing built (tests that need these tools will skip)"
  exit 1
fi

want=("$@")
status=0
while read -r name version how module rest; do
  case "$name" in ''|'#'*) continue ;; esac
  # Trailing KEY=value words are build settings (e.g. GOTOOLCHAIN=go1.27.3), the rest packages.
  pkgs=""; settings=()
  for w in $rest; do
    if [[ "$w" =~ ^[A-Z][A-Z0-9_]*= ]]; then settings+=("$w"); else pkgs="$pkgs $w"; fi
  done
  if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
  dest=$cache/$name-$version
  if [ -f "$dest/.complete" ]; then echo "build-tools: $name $version cached"; continue; fi
  rm -rf "$dest"; mkdir -p "$dest/bin"
  start=$(date +%s)
  log=$dest/build.log
  ok=1
  case "$how" in
    install)
      for p in $pkgs; do
        env "${settings[@]}" GOBIN="$dest/bin" nice -n 10 go install -trimpath "$module/${p#./}@$version" >>"$log" 2>&1 || ok=0
      done ;;
    build)
      dir=$(env "${settings[@]}" go mod download -json "$module@$version" 2>>"$log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
      if [ -z "$dir" ]; then ok=0; else
        for p in $pkgs; do
          (cd "$dir" && env "${settings[@]}" nice -n 10 go build -trimpath -o "$dest/bin/" "$p") >>"$log" 2>&1 || ok=0
        done
      fi ;;
    *) echo "build-tools: $name: unknown method '$how'" >>"$log"; ok=0 ;;
  esac
  if [ $ok = 1 ]; then
    touch "$dest/.complete"
    echo "build-tools: $name $version built in $(( $(date +%s) - start )) s"
  else
    echo "build-tools: $name $version FAILED after $(( $(date +%s) - start )) s; last lines of $log:"
    tail -n 5 "$log" | sed 's/^/  /'
    status=1
  fi
done < "$list"
exit $status
