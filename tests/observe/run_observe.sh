#!/usr/bin/env bash
# airlock observe and suggest with real tools and real needs: git clone over HTTPS, npm install
# from a static registry and pip download from a PEP 503 index, all served by the observe world
# (world.sh, on top of tests/bypass/world.sh). Observe records, suggest turns the recording into
# a policy, check --strict accepts it, the same command succeeds under it, one new destination
# is still denied and audited; deny mode asks no upstream DNS question for names not in BASE.
# Usage: run_observe.sh AIRLOCK_BINARY root|nobody     ("ok - NAME" / "not ok - NAME: why")
AIRLOCK_SOURCE=${1:?usage: run_observe.sh AIRLOCK_BINARY root|nobody}
MODE=${2:-root}
OBSERVE_DIR=$(cd "$(dirname "$0")" && pwd)
OBSERVE_STATE=${AIRLOCK_OBSERVE_STATE:-/tmp/airlock-observe-world}
[ "$(id -u)" = 0 ] || { echo "the observe tests need root (network namespaces, setpriv)"; exit 1; }

# Our world first (it starts the bypass world when needed), so lib.sh finds that one running.
observe_world_owned=0
if ! "$OBSERVE_DIR/world.sh" status; then
  "$OBSERVE_DIR/world.sh" start || { echo "not ok - world: cannot start the observe world"; exit 1; }
  observe_world_owned=1
fi
. "$OBSERVE_DIR/../bypass/lib.sh"
observe_cleanup() {
  cleanup
  [ "$observe_world_owned" = 1 ] && "$OBSERVE_DIR/world.sh" stop
}
trap observe_cleanup EXIT

# The recording's base: no allow rule (forward learns everything), and one with api.example.test
# (deny mode: git works, npm and pip are refused and recorded, and their names never go upstream).
BASE=$(policy observe-base 'version: 1
name: observe-test
network:
  dns_upstream: 127.0.0.1:5353
')
BASE_WITH_GIT=$(policy observe-base-git 'version: 1
name: observe-test-git
network:
  mode: allowlist
  allow: [api.example.test:443]
  dns_upstream: 127.0.0.1:5353
')
# Without a delegated cgroup, uid 65534 cannot have the memory limit a suggestion sets: the
# re-runs then pass --allow-degraded, and a check asserts that the memory limit is all it lacks.
DEGRADED=()
[ "$MODE" = nobody ] && DEGRADED=(--allow-degraded)

# tools.sh RUN DIR [new]: the three tools in a fresh DIR of the workspace; "new" adds one curl to
# a destination no recording has seen. Retries off, so a refusal ends a tool at once.
inner tools << 'EOF_'
DIR=$2
export GIT_SSL_CAINFO=$PWD/ca.crt
rm -rf "$DIR" && mkdir "$DIR" && cd "$DIR" || exit 1
getent ahosts registry.example.test > /dev/null; getent ahosts pypi.example.test > /dev/null
echo "== git"
timeout 60 git clone -q https://api.example.test/repo.git clone 2>&1 && cat clone/README
echo "git-exit=$?"
echo "== npm"
mkdir npm && cd npm && printf '{"name":"x","version":"1.0.0","private":true}\n' > package.json
timeout 60 npm install --registry https://registry.example.test/ --cafile ../../ca.crt --no-audit \
  --no-fund --no-update-notifier --fetch-retries=0 tiny-pkg@1.0.0 > ../npm.out 2>&1
echo "npm-exit=$?"
node -e 'console.log(require("tiny-pkg"))' 2>&1 | head -1
cd ..
echo "== pip"
timeout 60 pip download --index-url https://pypi.example.test/simple/ --cert ../ca.crt --retries 0 \
  --no-cache-dir --disable-pip-version-check -d pipdl tiny-pkg > pip.out 2>&1
echo "pip-exit=$?"
ls pipdl 2> /dev/null
if [ "${3:-}" = new ]; then
  echo "== new"
  timeout 10 curl -sS --max-time 8 --cacert ../ca.crt -o /dev/null "https://other.example.test/new-$RUN" 2>&1
  echo "new-exit=$?"
fi
EOF_

# observe_sandbox NAME [OBSERVE OPTIONS] -- CMD...: like lib.sh's sandbox, with airlock observe.
observe_sandbox() {
  local name=$1
  shift
  audit="$audits/$name.jsonl"
  rm -f "$audit"
  local options=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do options+=("$1"); shift; done
  shift
  out=$(cd "$workspace" && as_user_env timeout 300 "$AIRLOCK" observe --audit "$audit" "${options[@]}" -- "$@" 2>&1 < /dev/null)
  status=$?
}

registry_mark=0
mark_registry() { registry_mark=$(stat -c %s "$OBSERVE_STATE/registry.log" 2> /dev/null || echo 0); }
registry_since() { tail -c +"$((registry_mark + 1))" "$OBSERVE_STATE/registry.log" 2> /dev/null; }
expect_registry() { # expect_registry REGEX WHY
  registry_since | grep -Eq -- "$1" ||
    problem "$2" "registry log since the check began (expected /$1/):"$'\n'"$(registry_since | tail -10)"
}

expect_tools_worked() { # the three tools got what they came for
  expect_section git 'hello from the bypass origin' "git clone did not get the repository"
  expect_section npm 'hello from tiny-pkg' "npm install did not install tiny-pkg"
  expect_section pip 'tiny_pkg-1\.0\.0-py3-none-any\.whl' "pip download did not save the wheel"
}

# The allow rules of a suggested policy, one per line, as airlock check --json resolves them.
allow_rules() {
  as_user "$AIRLOCK" check --json "$1" 2> /dev/null | /usr/bin/python3 -c '
import json, sys
document = json.load(sys.stdin)
policy = document.get("policy", document)
for rule in policy["network"]["allow"]:
    print(rule if isinstance(rule, str) else "%s:%s" % (rule["host"], rule["port"]))' | sort
}

expect_strict_check() { # expect_strict_check FILE
  local report
  report=$(as_user "$AIRLOCK" check --strict "$1" 2>&1) || problem "airlock check --strict refuses the suggestion" "$report"$'\n'"$(cat "$1")"
}

expect_rules() { # expect_rules FILE RULE... : exactly these allow rules
  local got want
  got=$(allow_rules "$1")
  want=$(printf '%s\n' "${@:2}" | sort)
  [ "$got" = "$want" ] ||
    problem "the suggestion allows '${got//$'\n'/ }', expected '${want//$'\n'/ }'" "$(cat "$1")"
}

expect_degraded_memory_only() { # nobody: --allow-degraded let only the memory limit go
  [ "$MODE" = nobody ] || return 0
  expect_audit event=sandbox.start 'degraded~memory'
  expect_audit event=sandbox.start 'degraded~^\[("[^"]*memory[^"]*",?)+\]$'
}

# ---- forward: everything attempted is allowed, recorded and learned -------------------------
FORWARD_POLICY="$audits/forward-suggested.yaml"  # written by the user the sandbox runs as
mark_logs
mark_registry
begin "observe --forward: git clone, npm install and pip download succeed and are recorded"
observe_sandbox forward --forward --policy "$BASE" --dns-upstream 127.0.0.1:5353 -o "$FORWARD_POLICY" -- sh tools.sh "$RUN" forward
expect_status 0 "observe did not end with the command's status"
expect_tools_worked
expect_audit event=sandbox.start observe=forward
expect_audit event=egress.decision decision=allow host=api.example.test port=443 'process.exe~git'
expect_audit event=egress.decision decision=allow host=registry.example.test port=443 process.exe=/usr/bin/node
expect_audit event=egress.decision decision=allow host=pypi.example.test port=443 'process.exe~python3'
expect_audit event=process.exec path=/usr/bin/npm
expect_out 'registry\.example\.test +443 +[0-9]+ +[a-z_,]+ +allowed +npm \(install\)' "the summary table has no allowed npm (install) row for the registry"
expect_out 'pypi\.example\.test +443 .*pip \(download\)' "the summary table has no pip (download) row"
expect_registry 'registry\.example\.test GET /tiny-pkg/-/tiny-pkg-1\.0\.0\.tgz 200' "the tarball was not fetched from the registry"
expect_registry 'pypi\.example\.test GET /packages/tiny_pkg-1\.0\.0-py3-none-any\.whl 200' "the wheel was not fetched from the index"
end

begin "the forward suggestion allows exactly the three destinations, says who needed them, and check --strict accepts it"
if [ -f "$FORWARD_POLICY" ]; then
  expect_rules "$FORWARD_POLICY" api.example.test:443 registry.example.test:443 pypi.example.test:443
  grep -q '# git (clone) x' "$FORWARD_POLICY" || problem "no 'git (clone)' comment" "$(cat "$FORWARD_POLICY")"
  grep -q '# npm (install) x' "$FORWARD_POLICY" || problem "no 'npm (install)' comment" "$(cat "$FORWARD_POLICY")"
  grep -q '# pip (download) x' "$FORWARD_POLICY" || problem "no 'pip (download)' comment" "$(cat "$FORWARD_POLICY")"
  grep -q '^  max_memory_mb: ' "$FORWARD_POLICY" || problem "no memory limit" "$(cat "$FORWARD_POLICY")"
  expect_strict_check "$FORWARD_POLICY"
  # airlock suggest on the kept recording says the same (only the first header line differs)
  from_file=$(as_user "$AIRLOCK" suggest --base "$BASE" "$audit" 2>&1)
  [ "$(printf '%s\n' "$from_file" | tail -n +2)" = "$(tail -n +2 "$FORWARD_POLICY")" ] ||
    problem "airlock suggest on the recording differs from observe -o" "$(diff <(printf '%s\n' "$from_file") "$FORWARD_POLICY")"
else
  problem "observe -o wrote no suggestion" "$out"
fi
end

mark_logs
mark_registry
begin "the same command under the suggestion succeeds, with no denial"
sandbox rerun --policy "$FORWARD_POLICY" "${DEGRADED[@]}" -- sh tools.sh "$RUN" rerun
expect_status 0 "the command failed under its own suggestion"
expect_tools_worked
# (a DNS question for the sandbox's own host name, "airlock", is answered NXDOMAIN: not a denial of a connection)
expect_audit --none event=egress.decision decision=deny 'via~^(transparent|http_connect|http_forward|socks5)$'
expect_degraded_memory_only
expect_registry 'registry\.example\.test GET /tiny-pkg/-/tiny-pkg-1\.0\.0\.tgz 200' "the tarball was not fetched"
end

mark_logs
begin "a variant that touches one new destination is denied and audited under the suggestion"
sandbox variant --policy "$FORWARD_POLICY" "${DEGRADED[@]}" -- sh tools.sh "$RUN" variant new
expect_tools_worked
expect_section new 'new-exit=[1-9]' "the new destination was reached"
expect_audit event=egress.decision decision=deny host=other.example.test port=443 'reason~no rule' 'process.exe~curl'
expect_not_log origin "new-$RUN" "the request to the new destination reached the origin"
end

# ---- deny: refused and recorded; names not in BASE never asked upstream ---------------------
DENY_POLICY="$audits/deny-suggested.yaml"
mark_logs
mark_registry
begin "observe (deny): npm and pip are refused and recorded; no upstream DNS question for names not in BASE"
observe_sandbox deny --policy "$BASE_WITH_GIT" -o "$DENY_POLICY" -- sh tools.sh "$RUN" deny
expect_audit event=sandbox.start observe=deny
expect_section git 'hello from the bypass origin' "git clone, allowed by BASE, did not work"
expect_section npm 'npm-exit=[1-9]' "npm install was not refused"
expect_section pip 'pip-exit=[1-9]' "pip download was not refused"
expect_audit event=egress.decision decision=deny host=registry.example.test port=443 process.exe=/usr/bin/node
expect_audit event=egress.decision decision=deny host=pypi.example.test port=443 'process.exe~python3'
expect_audit --none event=egress.decision decision=allow host=registry.example.test
expect_out 'registry\.example\.test +443 +[0-9]+ +[a-z_,]+ +denied +npm \(install\)' "the summary table has no denied npm (install) row"
expect_log dnsmasq 'query\[A+\] api\.example\.test' "the name BASE allows was not resolved upstream (control: the resolver's log records queries)"
expect_not_log dnsmasq 'registry\.example\.test' "registry.example.test (not in BASE) was asked upstream"
expect_not_log dnsmasq 'pypi\.example\.test' "pypi.example.test (not in BASE) was asked upstream"
[ -z "$(registry_since)" ] || problem "a request reached the package server" "$(registry_since)"
end

begin "the deny-mode suggestion adds the registry and the index to BASE's rule, and check --strict accepts it"
if [ -f "$DENY_POLICY" ]; then
  expect_rules "$DENY_POLICY" api.example.test:443 registry.example.test:443 pypi.example.test:443
  grep -q '# npm (install) x' "$DENY_POLICY" || problem "no 'npm (install)' comment" "$(cat "$DENY_POLICY")"
  grep -q '# from the base policy' "$DENY_POLICY" || problem "BASE's own rule is not marked as BASE's" "$(cat "$DENY_POLICY")"
  expect_strict_check "$DENY_POLICY"
else
  problem "observe -o wrote no suggestion" "$out"
fi
end

mark_logs
begin "the same command under the deny-mode suggestion succeeds"
sandbox rerun-deny --policy "$DENY_POLICY" "${DEGRADED[@]}" -- sh tools.sh "$RUN" rerun-deny
expect_status 0 "the command failed under its deny-mode suggestion"
expect_tools_worked
# (a DNS question for the sandbox's own host name, "airlock", is answered NXDOMAIN: not a denial of a connection)
expect_audit --none event=egress.decision decision=deny 'via~^(transparent|http_connect|http_forward|socks5)$'
expect_degraded_memory_only
end

finish
