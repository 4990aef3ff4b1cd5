# Shared by run_bypass.sh and run_clients.sh (sourced): the scratch workspace, running airlock as
# root or as uid 65534, and checks that print "ok - NAME" / "not ok - NAME: why".
# Needs: AIRLOCK_SOURCE, MODE (root|nobody) set by the caller.
set -u
BYPASS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD_STATE=${AIRLOCK_BYPASS_STATE:-/tmp/airlock-bypass-world}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
passed=0
failed=0
skipped=0
# shellcheck disable=SC2034  # used by the scripts that source this file
RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')  # names and paths unique to this run

[ "$(id -u)" = 0 ] || { echo "the bypass tests need root (network namespaces, setpriv)"; exit 1; }
case "$MODE" in root | nobody) ;; *) echo "MODE must be root or nobody"; exit 2 ;; esac

scratch=$(mktemp -d /tmp/airlock-bypass-run.XXXXXX)
chmod 0755 "$scratch"
world_owned=0
cleanup() {
  [ "$world_owned" = 1 ] && "$BYPASS_DIR/world.sh" stop
  [ -n "${KEEP_SCRATCH:-}" ] && { echo "# scratch kept: $scratch"; return; }
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The world is shared: started here only when nobody (ctest's fixture) started it, and then
# stopped here too.
if ! "$BYPASS_DIR/world.sh" status; then
  "$BYPASS_DIR/world.sh" start || { echo "not ok - world: cannot start the test world"; exit 1; }
  world_owned=1
fi

install -m 0755 "$AIRLOCK_SOURCE" "$scratch/airlock"
AIRLOCK="$scratch/airlock"
workspace="$scratch/workspace"
audits="$scratch/audit"
mkdir -p "$workspace" "$audits" "$scratch/home"
cp "$BYPASS_DIR/probes/"*.py "$WORLD_STATE/ca.crt" "$workspace/"
find "$workspace" -type d -exec chmod 0755 {} + && find "$workspace" -type f -exec chmod 0644 {} +
chmod 0755 "$audits" "$scratch/home"
if [ "$MODE" = nobody ]; then
  chown -R 65534:65534 "$workspace" "$audits" "$scratch/home"
fi

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

POLICY=$(policy bypass 'version: 1
name: bypass-test
network:
  mode: allowlist
  allow: [api.example.test:443, api.example.test:80, "*.cdn.example.test:443", 198.51.100.20:8080, localhost:5432, rebind.example.test:80]
  deny: [blocked.cdn.example.test:443]
  dns_upstream: 127.0.0.1:5353
')

# sandbox NAME [AIRLOCK RUN OPTIONS] -- CMD...: runs CMD in the workspace under the bypass policy
# (unless --policy is given) with a clean environment; sets $out (stdout+stderr), $status and
# $audit (this run's own audit log).
sandbox() {
  local name=$1
  shift
  audit="$audits/$name.jsonl"
  rm -f "$audit"
  local options=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do options+=("$1"); shift; done
  shift
  local has_policy=0
  for option in "${options[@]}"; do [ "$option" = --policy ] && has_policy=1; done
  [ "$has_policy" = 1 ] || options+=(--policy "$POLICY")
  local before=$SECONDS
  out=$(cd "$workspace" && as_user_env timeout 120 "$AIRLOCK" run --audit "$audit" "${options[@]}" -- "$@" 2>&1 < /dev/null)
  status=$?
  [ $((SECONDS - before)) -lt 5 ] || echo "# sandbox $name took $((SECONDS - before)) s"
}
# SANDBOX_ENV: extra NAME=VALUE words for the caller's environment (e.g. a credential's value).
SANDBOX_ENV=()
as_user_env() {
  as_user env -i PATH=/usr/bin:/bin HOME="$scratch/home" LANG=C.UTF-8 TERM=dumb "${SANDBOX_ENV[@]}" "$@"
}

# ---- checks ------------------------------------------------------------------------------------
# begin NAME; expect_* ...; end   — a check fails with the first expectation that does not hold.
check_name=""
check_problems=()
begin() {
  check_name=$1
  check_problems=()
  audit_specs=()
  check_details=""
}
problem() { # problem WHY [DETAILS]
  check_problems+=("$1")
  [ -n "${2:-}" ] && check_details+="$2"$'\n'
}
audit_spec_text() {
  local spec=${audit_specs[$1]}
  local filters
  filters=$(printf '%s' "${spec#*$'\t'}" | tr '\t' ' ')
  case $filters in
    "--none "*) printf 'audit: an event that must not exist: %s' "${filters#--none }" ;;
    "--all "*) printf 'audit: not every event matches: %s' "${filters#--all }" ;;
    *) printf 'audit: no %s' "$filters" ;;
  esac
}
end() {
  # airlock must outlive whatever its sandbox did: a check whose sandbox took it down fails
  if [ -n "${audit:-}" ] && [ -f "$audit" ] && ! grep -q '"event":"sandbox.exit"' "$audit"; then
    problem "airlock died during the sandbox (exit ${status:-?}, no sandbox.exit event in its audit log)"
  fi
  if [ "${#audit_specs[@]}" -gt 0 ]; then
    local report line index=-1 text=""
    report=$(printf '%s\n' "${audit_specs[@]}" | /usr/bin/python3 -S -I "$BYPASS_DIR/audit_match.py" --batch 2>&1)
    local summary=""
    while IFS= read -r line; do
      if [[ $line == "FAIL "* ]]; then
        [ "$index" -ge 0 ] && problem "${summary:-$(audit_spec_text "$index")}" "$text"
        index=${line#FAIL }
        text=""
        summary=""
      elif [[ $line == "SUMMARY "* ]]; then
        summary=${line#SUMMARY }
      else
        text+="$line"$'\n'
      fi
    done <<< "$report"
    [ "$index" -ge 0 ] && problem "${summary:-$(audit_spec_text "$index")}" "$text"
  fi
  if [ "${#check_problems[@]}" = 0 ]; then
    passed=$((passed + 1))
    echo "ok - $check_name"
  else
    failed=$((failed + 1))
    local why
    why=$(printf '%s; ' "${check_problems[@]}")
    echo "not ok - $check_name: ${why%; }"
    printf '%s' "$check_details" | head -c 6000 | sed 's/^/#   /'
  fi
}
skip() {
  skipped=$((skipped + 1))
  echo "skip: $1"
}
finish() {
  [ "$skipped" = 0 ] || echo "# $skipped skipped"
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}

# expect_out REGEX WHY: the last sandbox's output matches the extended regex.
expect_out() {
  printf '%s\n' "$out" | grep -Eq -- "$1" ||
    problem "$2" "client output (expected /$1/):"$'\n'"$(printf '%s\n' "$out" | head -40)"
}
# expect_not_out REGEX WHY
expect_not_out() {
  if printf '%s\n' "$out" | grep -Eq -- "$1"; then
    problem "$2" "client output (must not match /$1/):"$'\n'"$(printf '%s\n' "$out" | grep -E -- "$1" | head -10)"
  fi
}
# section TAG: the lines of $out between "== TAG" and the next "== " line (for multi-probe runs).
section() {
  printf '%s\n' "$out" | awk -v tag="== $1" '$0 == tag {on = 1; next} /^== / {on = 0} on'
}
# expect_section TAG REGEX WHY
expect_section() {
  section "$1" | grep -Eq -- "$2" ||
    problem "$3" "output of '$1' (expected /$2/):"$'\n'"$(section "$1" | head -20)"
}
# expect_audit [--none|--count N|--all] FILTER...: see audit_match.py.
expect_audit() { # checked together at end(), one process per check
  local spec="$audit"
  for argument in "$@"; do spec+=$'\t'"$argument"; done
  audit_specs+=("$spec")
}
expect_status() { # expect_status N WHY
  [ "$status" = "$1" ] || problem "$2 (exit $status, expected $1)" "$(printf '%s\n' "$out" | tail -20)"
}

# Logs of the world: mark where they end now, then look only at what came after.
declare -A log_marks
WORLD_LOGS=(origin dnsmasq rebind echo echo-5433)
mark_logs() {
  for log in "${WORLD_LOGS[@]}"; do
    log_marks[$log]=$(stat -c %s "$WORLD_STATE/$log.log" 2> /dev/null || echo 0)
  done
}
log_since() { # log_since origin|dnsmasq|rebind|echo|echo-5433
  tail -c +"$(( ${log_marks[$1]:-0} + 1 ))" "$WORLD_STATE/$1.log" 2> /dev/null
}
expect_log() { # expect_log LOG REGEX WHY
  log_since "$1" | grep -Eq -- "$2" ||
    problem "$3" "$1 log since the check began (expected /$2/):"$'\n'"$(log_since "$1" | tail -10 | cut -c1-300)"
}
expect_not_log() { # expect_not_log LOG REGEX WHY
  if log_since "$1" | grep -Eq -- "$2"; then
    problem "$3" "$1 log lines matching /$2/:"$'\n'"$(log_since "$1" | grep -E -- "$2" | head -5 | cut -c1-300)"
  fi
}

# inner NAME < TEXT: an sh script in the workspace for `sandbox ... -- sh NAME.sh "$RUN"`;
# it starts with the helpers every inner script uses.
inner() {
  {
    cat << 'HELPERS'
RUN=$1
c() { timeout 10 curl -sS --max-time 8 --cacert ca.crt "$@"; }    # through the proxy variables
direct() { timeout 10 curl -sS --max-time 8 --cacert ca.crt --noproxy '*' "$@"; }  # transparent
probe() { timeout 15 python3 probe.py "$@"; }
HELPERS
    cat
  } > "$workspace/$1.sh"
  chmod 0644 "$workspace/$1.sh"
}
