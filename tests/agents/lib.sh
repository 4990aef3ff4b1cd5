# shellcheck shell=bash disable=SC2034  # the counters and $out/$status are read by the helpers eval'd below and by run_agents.sh
# Sourced by run_agents.sh: the scratch workspace, running airlock as root or as uid 65534, the
# agent world, and the check helpers of tests/bypass/lib.sh (begin/expect_*/end/finish, the same
# "ok - NAME" / "not ok - NAME: why" lines), taken from that file so both suites report alike.
# Needs: AIRLOCK_SOURCE, MODE (root|nobody) set by the caller.
set -u
AGENTS_DIR_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BYPASS_DIR=$(cd "$AGENTS_DIR_HERE/../bypass" && pwd)
WORLD=${AIRLOCK_AGENTS_STATE:-/tmp/airlock-agents-world}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
passed=0
failed=0
skipped=0
# shellcheck disable=SC2034  # used by run_agents.sh
RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')

[ "$(id -u)" = 0 ] || { echo "the agent tests need root (network namespaces, setpriv, reading the sandbox's memory)"; exit 1; }
case "$MODE" in root | nobody) ;; *) echo "MODE must be root or nobody"; exit 2 ;; esac

# the check helpers: tests/bypass/lib.sh from "# ---- checks" up to its world-log helpers
helpers=$(sed -n '/^# ---- checks/,/^# Logs of the world/p' "$BYPASS_DIR/lib.sh")
eval "$helpers"
for helper in begin problem end skip finish expect_out expect_not_out section expect_section expect_audit expect_status; do
  declare -F "$helper" > /dev/null || { echo "not ok - harness: tests/bypass/lib.sh no longer defines $helper"; exit 1; }
done

scratch=$(mktemp -d /tmp/airlock-agents-run.XXXXXX)
chmod 0755 "$scratch"
world_owned=0
background=()
cleanup() {
  for pid in "${background[@]}"; do kill "$pid" 2> /dev/null; done
  rm -f "$WORLD/hold" "$WORLD/release" "$WORLD"/held-* "$WORLD"/keys/* 2> /dev/null
  [ "$world_owned" = 1 ] && "$AGENTS_DIR_HERE/world.sh" stop
  [ -n "${KEEP_SCRATCH:-}" ] && { echo "# scratch kept: $scratch"; return; }
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$AGENTS_DIR_HERE/world.sh" status; then
  "$AGENTS_DIR_HERE/world.sh" start || { echo "not ok - world: cannot start the agent world"; exit 1; }
  world_owned=1
fi
AGENTS=$("$AGENTS_DIR_HERE/install_agents.sh") || { echo "not ok - install: the agent CLIs are not installed (install_agents.sh)"; exit 1; }
AGENT_BIN="$AGENTS/node_modules/.bin"

install -m 0755 "$AIRLOCK_SOURCE" "$scratch/airlock"
AIRLOCK="$scratch/airlock"
workspace="$scratch/workspace"
audits="$scratch/audit"
home="$scratch/home"
mkdir -p "$workspace" "$audits" "$home"
cp "$WORLD/ca.crt" "$workspace/world-ca.crt"
cp "$AGENTS_DIR_HERE/probes/"* "$workspace/"
find "$workspace" -type d -exec chmod 0755 {} + && find "$workspace" -type f -exec chmod 0644 {} +
chmod 0755 "$audits" "$home"
owner() { # owner PATH...: what the user airlock runs as owns (uid 65534 for nobody)
  [ "$MODE" = nobody ] && chown -R 65534:65534 "$@"
  return 0
}
owner "$workspace" "$audits" "$home"

as_user() {
  if [ "$MODE" = nobody ]; then
    setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
  else
    "$@"
  fi
}
policy() { # policy NAME CONTENT -> path (readable by uid 65534)
  printf '%s' "$2" > "$scratch/$1.yaml"
  chmod 0644 "$scratch/$1.yaml"
  echo "$scratch/$1.yaml"
}

# SANDBOX_ENV: NAME=VALUE words for the caller's environment (the real keys live only here).
SANDBOX_ENV=()
caller_env() { # the command line that starts airlock as the caller, with a clean environment
  local runner=()
  [ "$MODE" = nobody ] && runner=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  runner+=(env -i PATH="$AGENT_BIN:/usr/bin:/bin" HOME="$home" LANG=C.UTF-8 TERM=dumb "${SANDBOX_ENV[@]}")
  printf '%s\0' "${runner[@]}"
}

# sandbox NAME [AIRLOCK RUN OPTIONS] -- CMD...: runs CMD in the workspace, waits; sets $out
# (stdout+stderr), $status and $audit.
sandbox() {
  sandbox_start "$@"
  sandbox_wait 150
}
# sandbox_start NAME [OPTIONS] -- CMD...: the same in the background; $supervisor is airlock's pid
sandbox_start() {
  local name=$1
  shift
  audit="$audits/$name.jsonl"
  output="$scratch/$name.out"
  rm -f "$audit" "$output"
  local options=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do options+=("$1"); shift; done
  shift
  local runner=()
  mapfile -d '' runner < <(caller_env)
  sandbox_began=$SECONDS
  sandbox_name=$name
  (cd "$workspace" && exec "${runner[@]}" "$AIRLOCK" run --audit "$audit" "${options[@]}" -- "$@" > "$output" 2>&1 < /dev/null) &
  supervisor=$!
  background+=("$supervisor")
}
sandbox_wait() { # sandbox_wait SECONDS: kills airlock when it runs longer
  local deadline=$((SECONDS + $1))
  while kill -0 "$supervisor" 2> /dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 "$supervisor" 2> /dev/null; then
    echo "# sandbox $sandbox_name still ran after $1 s: killed"
    kill "$supervisor" 2> /dev/null
    sleep 1
    kill -9 "$supervisor" 2> /dev/null
  fi
  wait "$supervisor"
  status=$?
  out=$(cat "$output")
  [ $((SECONDS - sandbox_began)) -lt 10 ] || echo "# sandbox $sandbox_name took $((SECONDS - sandbox_began)) s"
}

# The stand-ins' log (JSON Lines): mark where it ends, then query what came after.
mark_requests() { request_mark=$(wc -l < "$WORLD/requests.jsonl"); }
requests_since() { tail -n +"$((request_mark + 1))" "$WORLD/requests.jsonl"; }
# standin_query PYTHON-EXPRESSION: evaluated with `records` (the log since the mark, as dicts)
# and the environment's needles; prints what it returns
standin_query() {
  requests_since | REAL="${REAL:-}" PLACEHOLDER="${PLACEHOLDER:-}" /usr/bin/python3 -c '
import json, os, sys
records = [json.loads(line) for line in sys.stdin if line.strip()]
real, placeholder = os.environ["REAL"], os.environ["PLACEHOLDER"]
requests = [r for r in records if r["kind"] == "request"]
print(eval(sys.argv[1]))' "$1"
}
expect_standin() { # expect_standin PYTHON-EXPRESSION WHY: the expression is True
  local got
  got=$(standin_query "$1" 2>&1)
  [ "$got" = True ] || problem "$2" "stand-in log since the check began ($1 -> ${got:0:300}):"$'\n'"$(requests_since | grep '"kind": "request"' | cut -c1-400 | tail -8)"
}
expect_no_secret() { # expect_no_secret VALUE WHAT FILE...: none of the files holds VALUE
  local file
  for file in "${@:3}"; do
    [ -f "$file" ] || continue
    if grep -qF -- "$1" "$file"; then
      problem "$2 holds the real value ($file)" "$(grep -nF -- "$1" "$file" | head -3 | sed "s/$1/<REAL>/g" | cut -c1-300)"
    fi
  done
}
rand_alnum() { tr -dc 'A-Za-z0-9' < /dev/urandom | head -c "$1"; }
