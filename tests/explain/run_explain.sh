#!/usr/bin/env bash
# `airlock explain` as a user meets it: golden text and JSON for the default policy, the
# claude-code profile and a policy with credentials and wildcards (rendered for the fixed host,
# AIRLOCK_EXPLAIN_HOST=fixed), every JSON checked against docs/explain.schema.json, the
# docs/explain.md jq assertion over a conforming and a violating policy, and bad input.
# Usage: run_explain.sh AIRLOCK_BINARY        UPDATE_GOLDEN=1 rewrites the golden files.
set -u
AIRLOCK=$(realpath "${1:?usage: run_explain.sh AIRLOCK_BINARY}")
here=$(cd "$(dirname "$0")" && pwd)
schema="$here/../../docs/explain.schema.json"
docs="$here/../../docs/explain.md"
# Debian's python3-jsonschema (scripts/install-deps.sh --test), not whatever python3 is first.
python=/usr/bin/python3
passed=0
failed=0
scratch=$(mktemp -d /tmp/airlock-explain.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# Policy paths are given relative to this directory, as the goldens show them; HOME is fixed
# so that nothing can depend on the caller's.
explain() { (cd "$here" && HOME=/home/explain-test AIRLOCK_EXPLAIN_HOST=fixed "$AIRLOCK" explain "$@"); }

validate() {  # FILE: against the schema (which must itself be valid draft 2020-12)
  "$python" - "$schema" "$1" <<'PY'
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
errors = sorted(Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))), key=str)
for error in errors:
    print(f"  {'/'.join(map(str, error.absolute_path))}: {error.message}")
sys.exit(1 if errors else 0)
PY
}

golden() {  # NAME ARGS...: text and JSON against golden/NAME.txt and golden/NAME.json
  local name=$1
  shift
  for format in txt json; do
    local flags=()
    [ "$format" = json ] && flags=(--json)
    local out="$scratch/$name.$format" want="$here/golden/$name.$format"
    if ! explain "${flags[@]}" "$@" > "$out" 2> "$scratch/stderr"; then
      fail "golden $name.$format: airlock explain failed: $(cat "$scratch/stderr")"
      continue
    fi
    if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
      cp "$out" "$want"
      echo "updated golden/$name.$format"
    fi
    if diff -u "$want" "$out"; then ok "golden $name.$format"; else fail "golden $name.$format (diff above; UPDATE_GOLDEN=1 rewrites)"; fi
    if [ "$format" = json ]; then
      if validate "$want"; then ok "golden $name.json matches the schema"; else fail "golden $name.json does not match docs/explain.schema.json"; fi
    fi
  done
}

golden default
golden claude-code --profile claude-code
golden credentials-wildcards policies/credentials-wildcards.yaml
golden published policies/published.yaml

# The probed host (whatever this machine is) still gives valid JSON that says it was probed.
if (cd "$here" && "$AIRLOCK" explain --json > "$scratch/probed.json") && validate "$scratch/probed.json" &&
  [ "$(jq -r .host.description "$scratch/probed.json")" = probed ]; then
  ok "probed host: valid JSON, host.description probed"
else
  fail "probed host output"
fi

# The worked example of docs/explain.md, run as written there.
program=$(sed -n '/^\[\.rows/,$p' "$here/egress_subset.jq")
if [ -n "$program" ] && [[ "$(cat "$docs")" == *"$program"* ]]; then
  ok "docs/explain.md shows egress_subset.jq as it is"
else
  fail "docs/explain.md does not show tests/explain/egress_subset.jq verbatim"
fi
assert_subset() {  # POLICY: exit status and stderr of the jq assertion
  explain --json "$1" | jq -e --argjson allowed '["api.anthropic.com:443"]' \
    -f "$here/egress_subset.jq" > /dev/null 2> "$scratch/jq.err"
}
if assert_subset policies/egress-anthropic-only.yaml; then
  ok "egress subset: the conforming policy passes"
else
  fail "egress subset: the conforming policy was rejected: $(cat "$scratch/jq.err")"
fi
if assert_subset policies/egress-widened.yaml; then
  fail "egress subset: the widened policy passed"
elif grep -qF '*.githubusercontent.com:443' "$scratch/jq.err"; then
  ok "egress subset: the widened policy fails, naming *.githubusercontent.com:443"
else
  fail "egress subset: the widened policy failed without naming the extra rule: $(cat "$scratch/jq.err")"
fi

# Bad input: one line, exit 2.
bad() {  # NAME EXPECTED_TEXT ENV... -- ARGS...
  local name=$1 expected=$2
  shift 2
  local environment=()
  while [ "$1" != -- ]; do environment+=("$1"); shift; done
  shift
  (cd "$here" && env "${environment[@]}" "$AIRLOCK" explain "$@" > "$scratch/out" 2> "$scratch/err")
  local status=$?
  if [ "$status" = 2 ] && [ "$(wc -l < "$scratch/err")" = 1 ] && grep -qF -- "$expected" "$scratch/err" &&
    [ ! -s "$scratch/out" ]; then
    ok "bad input: $name"
  else
    fail "bad input: $name (exit $status, stderr: $(cat "$scratch/err"))"
  fi
}
printf 'version: 1\nname: x\nnetwrok: {}\n' > "$scratch/typo.yaml"
bad "unknown key" "typo.yaml:3:1:" -- "$scratch/typo.yaml"
bad "unknown profile" "nope" -- --profile nope
bad "file and profile" "conflict" -- policies/egress-widened.yaml --profile claude-code
bad "unknown AIRLOCK_EXPLAIN_HOST" "AIRLOCK_EXPLAIN_HOST=bogus" AIRLOCK_EXPLAIN_HOST=bogus --

echo "explain: $passed passed, $failed failed"
[ "$failed" = 0 ]
