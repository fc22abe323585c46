#!/usr/bin/env bash
# Installs the pinned Checkov (scripts/checkov-requirements.txt: checkov 3.3.30 and everything it
# pulls in, exact versions) from PyPI into a virtualenv in the tools cache:
#   $TOOLS_CACHE/checkov-3.3.30/bin/checkov      (TOOLS_CACHE defaults to .tools/ in the project)
# A complete install is kept (a second run costs nothing). Exit 1 with the reason when it can't be
# installed, so callers go on and the plan review says the scanner was skipped and why.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TOOLS_CACHE:-$root/.tools}
reqs=$root/scripts/checkov-requirements.txt
version=$(sed -n 's/^checkov==//p' "$reqs")
dest=$cache/checkov-$version
python=${PYTHON:-python3}
if [ -f "$dest/.complete" ]; then echo "install-checkov: checkov $version cached"; exit 0; fi
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "install-checkov: $python with the venv module is needed; checkov not installed (the plan review will skip the scanner)"
  exit 1
fi
rm -rf "$dest"; mkdir -p "$cache"
start=$(date +%s)
log=$cache/checkov-$version.log
if "$python" -m venv "$dest" >"$log" 2>&1 \
  && "$dest/bin/pip" install --no-input --disable-pip-version-check -q -r "$reqs" >>"$log" 2>&1 \
  && [ "$(CKV_SKIP_PACKAGE_UPDATE_CHECK=true "$dest/bin/checkov" --version 2>>"$log")" = "$version" ]; then
  touch "$dest/.complete"
  echo "install-checkov: checkov $version installed in $(( $(date +%s) - start )) s"
else
  echo "install-checkov: checkov $version FAILED after $(( $(date +%s) - start )) s; last lines of $log:"
  tail -n 5 "$log" | sed 's/^/  /'
  exit 1
fi
