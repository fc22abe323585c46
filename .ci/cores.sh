#!/usr/bin/env bash
# The second core (README, "Two cores"), after the full suite has passed on the default (cdktf):
# 1. every stack synthesized on cdktf and on CDK Terrain (cdktn) must be the same JSON once
#    parsed, apart from the core's version in the metadata (`npm run core -- compare`);
# 2. the tests that touch the core (synthesis, snapshots, the CLI, the runner) pass on cdktn;
# 3. `npx cdktn synth` writes the same files as `npm run synth`.
# The cdktn CLI needs Node >= 22.19: on an older Node, 2 and 3 run on Node 22 (scripts/node.sh).
# The switch installs cdktn with `npm install --no-save` (package.json and the lock stay as they
# are); off CI (CI unset) the default is restored at the end with `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
# As in .ci/run: a CLI config path that points nowhere only makes terraform print warnings.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then unset TF_CLI_CONFIG_FILE; fi
start=$SECONDS
work="$(mktemp -d)"
restore() {
  if [ -z "${CI:-}" ]; then
    npm run --silent core -- use cdktf >/dev/null
    # cdktf.out as the default core wrote it.
    if [ -d "$work/cdktf" ]; then rm -rf cdktf.out && mv "$work/cdktf" cdktf.out; fi
  fi
  rm -rf "$work"
}
trap restore EXIT
# What the core touches; the rest of the suite (renderers, rehearsals, harness) doesn't import it.
CORE_TESTS=(core article-stack mesh-stack subnet-router-stacks erlang-cluster-stack site-to-site-stack
  determinism fast-synth run-ts-caches synth-errors quiet-tools)
files=("${CORE_TESTS[@]/#/__tests__/}"); files=("${files[@]/%/.test.ts}")

echo "== second core: synthesis on cdktf (default)"
npm run --silent synth
cp -r cdktf.out "$work/cdktf"
echo "== second core: installing CDK Terrain"
t=$SECONDS
npm run --silent core -- use cdktn
install_s=$((SECONDS - t))
echo "== second core: synthesis on $(npm run --silent core) and comparison"
npm run --silent synth
cp -r cdktf.out "$work/cdktn"
npm run --silent core -- compare "$work/cdktf" "$work/cdktn"

# The CLI needs Node >= 22.19: on an older Node the core's tests (CLI tests included) run on Node 22
# from scripts/node.sh; the synthesis above has already run this Node on cdktn.
if node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)'; then
  run_cli=()
else
  run_cli=(scripts/node.sh 22)
fi
echo "== second core: the core's tests (${#files[@]} files) on Node $("${run_cli[@]}" node -v)"
t=$SECONDS
"${run_cli[@]}" npx jest --ci "${files[@]}"
tests_s=$((SECONDS - t))
echo "== second core: npx cdktn synth against npm run synth"
"${run_cli[@]}" npm run --silent cdktn -- synth -o "$work/cli" >/dev/null
diff -r "$work/cdktn" "$work/cli"
echo "npx cdktn synth: the same files, byte for byte, as npm run synth on the same core"
echo "== second core: done in $((SECONDS - start)) s (install ${install_s} s, tests ${tests_s} s)"
