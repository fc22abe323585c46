#!/usr/bin/env bash
# Re-records schemas/<name>.json from the real providers, for a user with network access:
# terraform init downloads each provider at the version its schemas/<name>.meta.json pins, then
# `terraform providers schema -json` is filtered to the resources already covered, with the
# providers' description prose left out (the files keep facts: names, types, flags, nesting).
# Afterwards: `npm run get` regenerates the bindings, `git diff schemas/` shows what changed.
#
# For tests: SCHEMAS_DIR points at another schemas folder, and RECORD_SCHEMAS_FROM at a saved
# `terraform providers schema -json` document (then nothing is downloaded).
set -euo pipefail
cd "$(dirname "$0")/.."
schemas=${SCHEMAS_DIR:-schemas}
from=${RECORD_SCHEMAS_FROM:-}
tools="jq"
[ -n "$from" ] || tools="terraform jq"
for tool in $tools; do
  command -v "$tool" >/dev/null || { echo "record-schemas: $tool is required" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

{
  echo 'terraform {'
  echo '  required_providers {'
  for meta in "$schemas"/*.meta.json; do
    name=$(basename "$meta" .meta.json)
    jq -r --arg n "$name" '"    \($n) = { source = \"\(.source)\", version = \"\(.version)\" }"' "$meta"
  done
  echo '  }'
  echo '}'
} >"$work/main.tf"

if [ -n "$from" ]; then
  cp "$from" "$work/all.json"
else
  (cd "$work" && terraform init -input=false -no-color >/dev/null && terraform providers schema -json) >"$work/all.json"
fi

for meta in "$schemas"/*.meta.json; do
  name=$(basename "$meta" .meta.json)
  address="registry.terraform.io/$(jq -r .source "$meta")"
  current="$schemas/$name.json"
  jq -S --arg a "$address" --slurpfile cur "$current" '
    ($cur[0].provider_schemas[$a]) as $old
    | {format_version,
       provider_schemas: {($a): (.provider_schemas[$a]
         | reduce ("resource_schemas", "data_source_schemas") as $kind (.;
             if .[$kind] then .[$kind] |= with_entries(select(.key as $k | ($old[$kind] // {}) | has($k))) else . end))}}
    | walk(if type == "object" and has("description_kind") then del(.description) else . end)
  ' "$work/all.json" >"$work/$name.json"
  mv "$work/$name.json" "$current"
  echo "record-schemas: $current from $address"
done
