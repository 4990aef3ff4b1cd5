#!/usr/bin/env bash
# airlock's limits through a delegated cgroup v2, on the real kernel, as uid 65534 in a cgroup
# delegated the way systemd does it (chowned to the user, the user's process alone in it); and
# root's cgroup v1 pids limit. Needs root to prepare the cgroups.
# Usage: run_cgroup2.sh reports AIRLOCK UNIT_TESTS  refusals, delegation mechanics, root on v1
#        run_cgroup2.sh pids AIRLOCK UNIT_TESTS     pids.max through cgroup v2
#        run_cgroup2.sh cleanup                     undo what an interrupted run left behind
#
# On hybrid hosts the pids controller is bound to a v1 hierarchy. In "pids" mode, when that
# hierarchy holds no cgroup but its root, it is unmounted for the run (which frees pids for
# cgroup2) and mounted again in cleanup; when it cannot be freed the mode skips (exit 77) and
# says why. "reports" leaves v1 alone and exercises the delegation mechanics with a controller
# cgroup2 does offer (pids, else hugetlb).
set -u
state=/run/airlock-cgroup2-test.state  # what this test changed, for cleanup
skip_code=77

cgroup2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
# Our cgroups live under a root-owned parent so that uid 65534 owns only its delegated part.
parent=${cgroup2:+$cgroup2/airlock-test}
delegated=${parent:+$parent/deleg}

cleanup() {
  [ -n "$parent" ] && [ -d "$parent" ] && {
    # Deepest first; our processes are gone by now, or are killed here (they are only ours).
    find "$parent" -depth -type d | while read -r dir; do
      for pid in $(cat "$dir/cgroup.procs" 2> /dev/null); do kill -KILL "$pid" 2> /dev/null; done
      for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$dir" 2> /dev/null && break; sleep 0.1; done
    done
  }
  [ -f "$state" ] || return 0
  local status=0
  while read -r key value; do
    case $key in
      enabled) echo "-$value" > "$cgroup2/cgroup.subtree_control" || status=1 ;;
      unmounted_pids)
        mount -t cgroup -o pids cgroup "$value" || status=1
        awk -v dir="$value" '$5 == dir && $9 == "cgroup"' /proc/self/mountinfo | grep -q pids \
          || { echo "FAIL the v1 pids hierarchy is not back at $value"; status=1; }
        ;;
    esac
  done < <(tac "$state")
  [ -d "$parent" ] && { echo "FAIL $parent is left behind"; status=1; }
  rm -f "$state"
  return $status
}

usage="usage: run_cgroup2.sh reports|pids AIRLOCK UNIT_TESTS | cleanup"
MODE=${1:?$usage}
if [ "$MODE" = cleanup ]; then
  cleanup && exit 0
  exit 1
fi
[ "$MODE" = reports ] || [ "$MODE" = pids ] || { echo "$usage"; exit 2; }
AIRLOCK_SOURCE=${2:?$usage}
UNIT_TESTS=${3:?$usage}
[ "$(id -u)" = 0 ] || { echo "FAIL run_cgroup2.sh needs root to prepare cgroups"; exit 1; }
[ -n "$cgroup2" ] || { echo "SKIP: no cgroup2 filesystem is mounted on this host"; exit $skip_code; }
passed=0
failed=0
not_run=()
scratch=$(mktemp -d /tmp/airlock-cgroup2.XXXXXX)
chmod 0755 "$scratch"
trap 'rm -rf "$scratch"; cleanup || { echo "FAIL cleanup"; exit 1; }' EXIT
install -m 0755 "$AIRLOCK_SOURCE" "$scratch/airlock"
install -m 0755 "$UNIT_TESTS" "$scratch/unit_tests"
AIRLOCK="$scratch/airlock"
workspace="$scratch/workspace"
mkdir -p "$workspace" "$scratch/home" && chown 65534:65534 "$workspace" && chmod 0777 "$scratch/home"
: > "$state"

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
  failed=$((failed + 1)); echo "FAIL $1"
  [ -n "${out:-}" ] && printf '%s\n' "$out" | sed 's/^/     | /' | head -20
}
expect() { if printf '%s\n' "$out" | grep -Eq -- "$2"; then ok "$1"; else fail "$1: output does not match /$2/"; fi; }
policy() { printf '%s' "$2" > "$scratch/$1.yaml"; chmod 0644 "$scratch/$1.yaml"; echo "$scratch/$1.yaml"; }
# in_cgroup DIR CMD...: CMD as uid 65534, alone in cgroup DIR (the shell execs into it).
in_cgroup() {
  local dir=$1
  shift
  (cd "$workspace" && sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$dir" \
    setpriv --reuid=65534 --regid=65534 --clear-groups -- env HOME="$scratch/home" "$@" < /dev/null)
}
# check NAME EXPECTED_EXIT DIR CMD...: as in_cgroup, output in $out.
check() {
  local name=$1 expected=$2 dir=$3
  shift 3
  out=$(in_cgroup "$dir" "$@" 2>&1)
  local status=$?
  if [ "$status" = "$expected" ]; then ok "$name"; else fail "$name: exit $status, expected $expected"; fi
}

# --- the pids controller for cgroup2 --------------------------------------------------------
v1_pids=$(awk '$9 == "cgroup" && $NF ~ /(^|,)pids(,|$)/ { print $5; exit }' /proc/self/mountinfo)
pids_why=""
if [ -n "$v1_pids" ]; then
  if [ -n "$(find "$v1_pids" -mindepth 1 -type d -print -quit)" ]; then
    pids_why="the v1 pids hierarchy at $v1_pids has cgroups in use"
  elif [ "$MODE" = reports ]; then
    pids_why="the v1 pids hierarchy at $v1_pids is left mounted in this mode"
  elif umount_error=$(umount "$v1_pids" 2>&1); then
    echo "unmounted_pids $v1_pids" >> "$state"
  else
    pids_why="pids is bound to the v1 hierarchy at $v1_pids, which cannot be unmounted ($umount_error)"
  fi
fi
offered=$(cat "$cgroup2/cgroup.controllers")
if printf '%s\n' $offered | grep -qx pids; then
  controller=pids
elif [ -z "$pids_why" ]; then
  pids_why="cgroup2 does not offer pids (it offers: ${offered:-none})"
fi
if [ "$MODE" = pids ] && [ "${controller:-}" != pids ]; then
  echo "SKIP: pids through cgroup v2 cannot be tested on this host: $pids_why"
  exit $skip_code
fi
if [ -z "${controller:-}" ] && printf '%s\n' $offered | grep -qx hugetlb; then controller=hugetlb; fi

# --- a cgroup delegated to uid 65534 ---------------------------------------------------------
# As systemd's Delegate=yes: the parent enables the controllers, the user owns the child.
if [ -n "${controller:-}" ] && ! grep -qw "$controller" "$cgroup2/cgroup.subtree_control"; then
  echo "+$controller" > "$cgroup2/cgroup.subtree_control" && echo "enabled $controller" >> "$state"
fi
mkdir "$parent" "$delegated" || { echo "FAIL cannot create $delegated"; exit 1; }
[ -n "${controller:-}" ] && echo "+$controller" > "$parent/cgroup.subtree_control"
chown -R 65534:65534 "$delegated"
not_delegated="$parent/not-deleg"  # root-owned: a cgroup nobody delegated to uid 65534
mkdir "$not_delegated"

pids_policy=$(policy pids 'version: 1
name: pids
process:
  max_pids: 8
')
memory_policy=$(policy memory 'version: 1
name: memory
process:
  max_memory_mb: 64
')
if [ "$MODE" = reports ]; then
# The not-delegated case: airlock says what it tried for v2 and v1, in one line, and refuses.
check "not delegated: a memory limit is refused" 125 "$not_delegated" "$AIRLOCK" run --policy "$memory_policy" -- /bin/true
expect "not delegated: the cause names the cgroup and the uid" "^airlock: cannot enforce memory limit: cgroup v2: $not_delegated is not delegated to uid 65534: cannot write $not_delegated"
expect "not delegated: says how to delegate" "systemd-run --user --scope -p Delegate=yes airlock run"
expect "not delegated: says what cgroup v1 lacked" "; cgroup v1: no writable memory controller \(needs root\)$"
[ "$(printf '%s\n' "$out" | grep -c 'cannot enforce')" = 1 ] && ok "not delegated: the cause is one line" \
  || fail "not delegated: the cause is not one line"
check "not delegated: --allow-degraded runs" 0 "$not_delegated" "$AIRLOCK" run --allow-degraded --policy "$memory_policy" -- /bin/true
expect "not delegated: --allow-degraded lists the gap" "^airlock: degraded: memory limit: cgroup v2: $not_delegated is not delegated"

# Delegated, but memory stays with v1 on a hybrid host: the report says so.
if ! printf '%s\n' $offered | grep -qx memory; then
  check "delegated without memory: refused" 125 "$delegated" "$AIRLOCK" run --policy "$memory_policy" -- /bin/true
  expect "delegated without memory: names the missing controller" "cgroup v2: $delegated does not offer the memory controller \((it is bound to a cgroup v1 hierarchy on this host|the parent has not delegated it)"
  [ -z "$(ls -d "$delegated"/airlock-* 2> /dev/null)" ] && ok "delegated without memory: created no cgroup" \
    || fail "delegated without memory: left $(ls -d "$delegated"/airlock-*)"
else
  not_run+=("memory refusal (this host's cgroup2 offers memory)")
fi

# The delegation mechanics (move into a leaf, enable, add, undo; shared cgroup refused).
if [ -n "${controller:-}" ]; then
  out=$(in_cgroup "$delegated" env AIRLOCK_TEST_CGROUP2_CONTROLLER="$controller" "$scratch/unit_tests" \
    --gtest_filter='DelegatedCgroupLive.*' 2>&1)
  status=$?
  if [ $status = 0 ] && printf '%s\n' "$out" | grep -q '^\[  PASSED  \]'; then
    ok "delegation mechanics with $controller ($(printf '%s\n' "$out" | grep -c '^\[       OK \]') gtest cases; $(printf '%s\n' "$out" | grep -c '^\[  SKIPPED \] .* ms)$') skipped)"
  else
    fail "delegation mechanics with $controller: unit_tests exit $status"
  fi
else
  not_run+=("delegation mechanics (cgroup2 offers neither pids nor hugetlb)")
fi

# --- root keeps cgroup v1 pids where the v1 hierarchy is mounted ----------------------------
if [ -n "$v1_pids" ]; then
  out=$(cd "$workspace" && "$AIRLOCK" run --verbose --policy "$pids_policy" -- /bin/true 2>&1)
  [ $? = 0 ] && ok "root: runs with a pids limit" || fail "root: runs with a pids limit"
  expect "root: pids through cgroup v1" "pids:cgroup-v1=8"
  [ -z "$(find "$v1_pids" -mindepth 1 -type d -print -quit)" ] && ok "root: the v1 pids cgroup is gone after exit" \
    || fail "root: left in $v1_pids: $(find "$v1_pids" -mindepth 1 -type d)"
else
  not_run+=("root on cgroup v1 pids (no v1 pids hierarchy on this host)")
fi
fi  # reports

# --- pids.max through cgroup v2 --------------------------------------------------------------
if [ "$MODE" = pids ]; then
  # pids.events counts in CgroupV2Limits::usage(), with no RLIMIT_NPROC in the way.
  out=$(in_cgroup "$delegated" env AIRLOCK_TEST_CGROUP2_CONTROLLER=pids "$scratch/unit_tests" \
    --gtest_filter='DelegatedCgroupLive.*' 2>&1)
  status=$?
  if [ $status = 0 ] && printf '%s\n' "$out" | grep -q '^\[       OK \] DelegatedCgroupLive.PidsMaxIsWrittenAndCounted'; then
    ok "pids.max written and pids.events counted ($(printf '%s\n' "$out" | grep -c '^\[       OK \]') gtest cases)"
  else
    fail "pids.max gtest cases: unit_tests exit $status"
  fi

  # A fork flood against max_pids 8 is capped. RLIMIT_NPROC is set to the same number and is
  # checked first by the kernel, so which one refused is shown below by the cgroup itself.
  check "pids: a fork flood is capped" 0 "$delegated" "$AIRLOCK" run --verbose --policy "$pids_policy" -- \
    sh -c 'for i in $(seq 20); do sleep 30 2> /dev/null & done; cat /proc/self/cgroup; kill -9 -1; exit 0'
  expect "pids: the fork flood met a refusal" "Cannot fork|fork: "
  expect "pids: the layer says cgroup v2" "pids:cgroup-v2=8"
  expect "pids: inside, the sandbox is the root of its cgroup namespace" "^0::/$"
  [ -z "$(ls -d "$delegated"/airlock-* 2> /dev/null)" ] && ok "pids: the sandbox's cgroups are gone after exit" \
    || fail "pids: left behind: $(ls -d "$delegated"/airlock-*)"
  [ -z "$(cat "$delegated/cgroup.subtree_control")" ] && ok "pids: the delegated cgroup's subtree_control is restored" \
    || fail "pids: subtree_control left as: $(cat "$delegated/cgroup.subtree_control")"
  [ "$(cat "$delegated/cgroup.procs")" = "" ] && ok "pids: the supervisor's leaf is gone and nothing stayed in it" \
    || fail "pids: processes left in $delegated: $(cat "$delegated/cgroup.procs")"

  # While the sandbox runs: its processes are in airlock's cgroup, whose pids.max is 8.
  (in_cgroup "$delegated" "$AIRLOCK" run --policy "$pids_policy" -- sh -c 'sleep 3' > /dev/null 2>&1 &)
  sandbox_cg=""
  for _ in $(seq 50); do
    sandbox_cg=$(ls -d "$delegated"/airlock-[0-9a-f]* 2> /dev/null | head -1)
    [ -n "$sandbox_cg" ] && [ -n "$(cat "$sandbox_cg/cgroup.procs" 2> /dev/null)" ] && break
    sleep 0.1
  done
  sleeper=$(pgrep -n -x sleep)
  if [ -n "$sandbox_cg" ] && [ "$(cat "$sandbox_cg/pids.max")" = 8 ] \
    && [ "$(awk -F: '$1 == 0 { print $3 }' "/proc/$sleeper/cgroup")" = "${sandbox_cg#"$cgroup2"}" ]; then
    ok "pids: the running sandbox is in airlock's cgroup, pids.max 8"
  else
    fail "pids: no running sandbox in a cgroup with pids.max 8 (${sandbox_cg:-none})"
  fi
  for _ in $(seq 100); do [ -z "$(ls -d "$delegated"/airlock-* 2> /dev/null)" ] && break; sleep 0.1; done

  # Shared with another process, the cgroup cannot enable pids: only RLIMIT_NPROC remains.
  sleep 60 &
  neighbour=$!
  echo $neighbour > "$delegated/cgroup.procs"
  check "pids shared: runs on the rlimit alone" 0 "$delegated" "$AIRLOCK" run --verbose --policy "$pids_policy" -- /bin/true
  kill $neighbour; wait $neighbour 2> /dev/null
  if printf '%s\n' "$out" | grep -q "pids:cgroup-v2"; then fail "pids shared: claims a cgroup v2 limit"; else ok "pids shared: claims no cgroup v2 limit"; fi
fi  # pids

for what in "${not_run[@]}"; do echo "not run: $what"; done
echo "$passed passed, $failed failed, ${#not_run[@]} not run"
[ "$failed" = 0 ]
