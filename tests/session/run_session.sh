#!/usr/bin/env bash
# Sessions, exec and the control socket through the real binary, as root or as uid 65534:
# exec's exit status, streams, state between execs, --json, --timeout, --cwd, -e, stdin; ps,
# logs (-f), stop; another uid and a process in another user namespace refused and audited;
# a killed session takes its commands with it; exec into a stopped session fails with one line;
# `airlock run` has a control socket too. Usage: run_session.sh AIRLOCK_BINARY [root|nobody]
set -u
AIRLOCK_SOURCE=${1:?usage: run_session.sh AIRLOCK_BINARY [root|nobody]}
MODE=${2:-root}
. "$(dirname "$0")/../lib/checks.sh"  # pass, fail, expect, reject, as_user
scratch=$(mktemp -d /tmp/airlock-session.XXXXXX)
chmod 0755 "$scratch"
install -m 0755 "$AIRLOCK_SOURCE" "$scratch/airlock"
AIRLOCK="$scratch/airlock"
workspace="$scratch/workspace"
mkdir -p "$workspace" "$scratch/home"
marker="airlock-session-test-$$"
SESSION="s-$$"
cleanup() {
  as_user "$AIRLOCK" stop --grace 1s "$SESSION" > /dev/null 2>&1
  pkill -9 -f "$marker" 2> /dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT

if [ "$MODE" = nobody ]; then
  [ "$(id -u)" = 0 ] || { echo "nobody mode needs root to switch users"; exit 1; }
  chown 65534:65534 "$workspace" "$scratch/home"
  owner_uid=65534
else
  owner_uid=0
fi
socket_dir=$([ "$MODE" = nobody ] && echo /tmp/airlock-65534 || echo /run/airlock)

# check NAME EXPECTED_EXIT PATTERN COMMAND...: COMMAND (as the user, in the workspace) must exit
# with EXPECTED_EXIT and its stdout+stderr match the extended regex PATTERN.
check() {
  local name=$1 expected=$2 pattern=$3
  shift 3
  out=$(cd "$workspace" && as_user "$@" 2>&1 < /dev/null)
  local status=$?
  if [ "$status" != "$expected" ]; then
    fail "$name: exit $status, expected $expected" "$out"
  elif ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
    fail "$name: output does not match /$pattern/" "$out"
  else
    pass "$name"
  fi
}

# ---- start, ps -------------------------------------------------------------------------------
started=$(cd "$workspace" && as_user "$AIRLOCK" session start --name "$SESSION" 2>&1)
status=$?
if [ "$status" = 0 ] && [ "$(printf '%s\n' "$started" | tail -1)" = "$SESSION" ]; then
  pass "session start prints the name once ready"
else
  fail "session start: exit $status" "$started"
  echo "passed $passed, failed $failed"
  exit 1
fi
sock="$socket_dir/$SESSION.sock"
perms=$(stat -c '%a %u' "$socket_dir" "$sock" 2> /dev/null | tr '\n' ' ')
if [ "$perms" = "700 $owner_uid 600 $owner_uid " ]; then
  pass "control directory 0700 and socket 0600, owned by uid $owner_uid"
else
  fail "control directory and socket modes: $perms" "$(ls -la "$socket_dir")"
fi
check "ps lists the session" 0 "^$SESSION +session " "$AIRLOCK" ps
check "ps --json: kind, policy hash, pids in use" 0 '"kind": "session"' "$AIRLOCK" ps --json

# ---- exec ------------------------------------------------------------------------------------
check "exit status passes through" 3 'out' "$AIRLOCK" exec "$SESSION" -- sh -c 'echo out; exit 3'
out=$(cd "$workspace" && as_user "$AIRLOCK" exec "$SESSION" -- sh -c 'echo to-out; echo to-err >&2' 2> /dev/null)
[ "$out" = "to-out" ] && pass "stdout and stderr stay apart" || fail "stdout was '$out'"
check "a signal gives 128+N" 143 '' "$AIRLOCK" exec "$SESSION" -- sh -c 'kill -TERM $$'
check "files written by one exec are there for the next (write)" 0 '' \
  "$AIRLOCK" exec "$SESSION" -- sh -c 'echo persisted > state.txt; mkdir -p /tmp/s; echo t > /tmp/s/t'
check "files written by one exec are there for the next (read)" 0 '^persisted$' \
  "$AIRLOCK" exec "$SESSION" -- cat state.txt
check "the session's private /tmp persists too" 0 '^t$' "$AIRLOCK" exec "$SESSION" -- cat /tmp/s/t
check "-e sets a variable" 0 '^value-1$' "$AIRLOCK" exec -e MY_VAR=value-1 "$SESSION" -- sh -c 'echo $MY_VAR'
check "--cwd" 0 '^/tmp$' "$AIRLOCK" exec --cwd /tmp "$SESSION" -- pwd
check "--cwd that does not exist: 126 and one line" 126 '^airlock: cannot change to /nonexistent: No such file' \
  "$AIRLOCK" exec --cwd /nonexistent "$SESSION" -- true
check "a command that does not exist: 127 and one line" 127 '^airlock: cannot execute no-such-command: No such file' \
  "$AIRLOCK" exec "$SESSION" -- no-such-command
out=$(cd "$workspace" && printf 'line one\nline two\n' | as_user "$AIRLOCK" exec "$SESSION" -- wc -l 2>&1)
[ "$out" = "2" ] && pass "stdin is streamed" || fail "stdin: wc -l said '$out'"
check "--json" 0 '^\{"duration_ms":[0-9]+,"exit_code":5,"signal":null,"stderr":"e\\n","stdout":"o\\n","timed_out":false,"truncated":false\}$' \
  "$AIRLOCK" exec --json "$SESSION" -- sh -c 'echo o; echo e >&2; exit 5'
check "--json caps output at 1 MiB" 0 '"truncated":true' \
  "$AIRLOCK" exec --json "$SESSION" -- head -c 2000000 /dev/zero
start_ms=$(date +%s%3N)
check "--timeout kills the command (--json)" 0 '"exit_code":137,.*"timed_out":true' \
  "$AIRLOCK" exec --json --timeout 1s "$SESSION" -- sleep 30
elapsed=$(($(date +%s%3N) - start_ms))
[ "$elapsed" -lt 5000 ] && pass "--timeout returned after ${elapsed} ms" || fail "--timeout took ${elapsed} ms"
check "--timeout (streaming): 137 and one line" 137 'timed out after 1s' \
  "$AIRLOCK" exec --timeout 1s "$SESSION" -- sleep 30

# ---- the session's confinement, seen through exec ---------------------------------------------
check "uid inside" 0 '^uid=65534' "$AIRLOCK" exec "$SESSION" -- id
check "no network" 0 '^refused$' "$AIRLOCK" exec "$SESSION" -- \
  sh -c 'curl -sS --max-time 3 http://1.1.1.1/ > /dev/null 2>&1 && echo reached || echo refused'
check "no control directory inside" 0 '^hidden$' "$AIRLOCK" exec "$SESSION" -- \
  sh -c "ls $socket_dir > /dev/null 2>&1 && echo visible || echo hidden"
check "no capabilities, no_new_privs" 0 'CapEff:	0000000000000000' "$AIRLOCK" exec "$SESSION" -- \
  grep -E 'CapEff|NoNewPrivs' /proc/self/status

# ---- logs ------------------------------------------------------------------------------------
check "logs shows the execs" 0 'control\.exec argv=\["id"\]' "$AIRLOCK" logs "$SESSION"
as_user "$AIRLOCK" logs -f --json "$SESSION" > "$scratch/follow.jsonl" 2>&1 &
follower=$!
sleep 0.5
(cd "$workspace" && as_user "$AIRLOCK" exec "$SESSION" -- echo "$marker-followed") > /dev/null
sleep 0.5
grep -q "$marker-followed" "$scratch/follow.jsonl" && pass "logs -f streams new events" ||
  fail "logs -f did not show the new exec" "$(tail -3 "$scratch/follow.jsonl")"

# ---- who may connect -------------------------------------------------------------------------
probe_connect='import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try: s.sendall(b"{\"op\":\"info\"}\n")
except BrokenPipeError: pass  # a refused peer may be told and cut off before it sends
print(s.makefile().readline().strip())'
# uid 1000 with CAP_DAC_OVERRIDE gets past the 0700 directory; SO_PEERCRED must stop it.
out=$(setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=+dac_override \
  --ambient-caps=+dac_override -- python3 -c "$probe_connect" "$sock" 2>&1)
if printf '%s' "$out" | grep -q 'refused: uid 1000 is neither'; then
  pass "another uid is refused"
else
  fail "another uid: $out"
fi
# The owner's uid, but inside a user namespace of its own (as every sandbox is).
out=$(as_user unshare --user --map-root-user python3 -c "$probe_connect" "$sock" 2>&1)
if printf '%s' "$out" | grep -q 'another user namespace'; then
  pass "a process in another user namespace is refused"
else
  fail "another user namespace: $out"
fi
check "refusals are audited" 0 'control\.refused .*uid 1000' "$AIRLOCK" logs "$SESSION"

# ---- stop ------------------------------------------------------------------------------------
(cd "$workspace" && as_user "$AIRLOCK" exec "$SESSION" -- bash -c "(exec -a $marker-bg sleep 300 &) ; true") > /dev/null 2>&1
pgrep -f "$marker-bg" > /dev/null && pass "a background process outlives its exec" ||
  fail "the background process did not start"
check "stop" 0 '' "$AIRLOCK" stop --grace 2s "$SESSION"
sleep 0.2
pgrep -f "$marker-bg" > /dev/null && fail "a process outlived the stopped session" ||
  pass "stop takes every process of the session"
[ -e "$sock" ] && fail "the socket is left after stop" || pass "stop removes the socket"
wait "$follower" 2> /dev/null
grep -q '"event":"sandbox.exit"' "$scratch/follow.jsonl" && pass "logs -f ends with sandbox.exit" ||
  fail "logs -f did not end with sandbox.exit" "$(tail -2 "$scratch/follow.jsonl")"
check "exec into a stopped session: one line" 125 "^airlock: no sandbox named $SESSION " \
  "$AIRLOCK" exec "$SESSION" -- true

# ---- a killed session takes its commands -----------------------------------------------------
(cd "$workspace" && as_user "$AIRLOCK" session start --name "$SESSION" > /dev/null 2>&1)
(cd "$workspace" && as_user "$AIRLOCK" exec "$SESSION" -- bash -c "exec -a $marker-long sleep 300" > /dev/null 2>&1; echo "exit=$?" > "$scratch/long.exit") &
sleep 0.5
supervisor=$(cd "$workspace" && as_user "$AIRLOCK" ps --json | python3 -c '
import json,sys
for s in json.load(sys.stdin):
    if s["name"] == sys.argv[1]: print(s["supervisor_pid"])' "$SESSION")
if [ -n "$supervisor" ] && pgrep -f "$marker-long" > /dev/null; then
  # A SIGKILLed supervisor cannot remove its cgroup v1 pids directory (the next airlock removes
  # it after a minute); remove it here so the serial cgroup test does not find it.
  own_cgroup=""
  for child in $(pgrep -P "$supervisor"); do
    own_cgroup=$(grep -lx "$child" /sys/fs/cgroup/pids/airlock-*/cgroup.procs 2> /dev/null | head -1)
    [ -n "$own_cgroup" ] && break
  done
  kill -9 "$supervisor"
  sleep 0.5
  if [ -n "$own_cgroup" ]; then
    for _ in $(seq 50); do rmdir "$(dirname "$own_cgroup")" 2> /dev/null && break; sleep 0.1; done
  fi
  pgrep -f "$marker-long" > /dev/null && fail "a command outlived its killed session" ||
    pass "a killed session takes its commands with it"
  wait
  grep -q 'exit=137' "$scratch/long.exit" && pass "the exec client of a killed session exits 137" ||
    fail "exec client of a killed session: $(cat "$scratch/long.exit")"
  check "exec into a killed session: one line" 125 "^airlock: sandbox $SESSION is not running" \
    "$AIRLOCK" exec "$SESSION" -- true
else
  fail "could not find the session's supervisor or its command" "supervisor='$supervisor'"
fi
check "a stale socket's name can be used again" 0 "^$SESSION$" "$AIRLOCK" session start --name "$SESSION"
check "a live name cannot" 2 "already running" "$AIRLOCK" session start --name "$SESSION"
as_user "$AIRLOCK" stop --grace 1s "$SESSION" > /dev/null 2>&1

# ---- airlock run has a control socket too ------------------------------------------------------
(cd "$workspace" && as_user "$AIRLOCK" run --name "r-$$" -- sleep 30 > /dev/null 2>&1; echo "exit=$?" > "$scratch/run.exit") &
sleep 0.5
check "ps shows a run with its command" 0 "^r-$$ +run .* sleep 30" "$AIRLOCK" ps
check "exec into a run: one line" 125 "is not a session" "$AIRLOCK" exec "r-$$" -- true
check "stop a run" 0 '' "$AIRLOCK" stop --grace 2s "r-$$"
wait
grep -q 'exit=143' "$scratch/run.exit" && pass "the stopped run's agent got SIGTERM (143)" ||
  fail "stopped run: $(cat "$scratch/run.exit")"
check "a bad name is one line" 2 "is not a sandbox name" "$AIRLOCK" session start --name '../x'

echo "passed $passed, failed $failed"
[ "$failed" = 0 ]
