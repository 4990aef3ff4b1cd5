#!/usr/bin/env bash
# Behaviour of `airlock run` and `airlock check` as a user meets it: exit codes, errors with
# file:line:col, signals, timeout, limits, audit events, no network, local IPC, the workspace.
# Usage: run_behaviour.sh AIRLOCK_BINARY [root|nobody]
set -u
AIRLOCK_SOURCE=${1:?usage: run_behaviour.sh AIRLOCK_BINARY [root|nobody]}
MODE=${2:-root}
passed=0
failed=0
scratch=$(mktemp -d /tmp/airlock-behaviour.XXXXXX)
chmod 0755 "$scratch"
trap 'rm -rf "$scratch"' EXIT
install -m 0755 "$AIRLOCK_SOURCE" "$scratch/airlock"
AIRLOCK="$scratch/airlock"
workspace="$scratch/workspace"
mkdir -p "$workspace"

as_user() {
  if [ "$MODE" = nobody ]; then
    setpriv --reuid=65534 --regid=65534 --clear-groups -- env HOME="$scratch/home" "$@"
  else
    env HOME="$scratch/home" "$@"
  fi
}
if [ "$MODE" = nobody ]; then
  [ "$(id -u)" = 0 ] || { echo "nobody mode needs root to switch users"; exit 1; }
  chown -R 65534:65534 "$workspace"
fi
mkdir -p "$scratch/home" && chmod 0777 "$scratch/home"

# check NAME EXPECTED_EXIT COMMAND... ; stdout+stderr land in $out
check() {
  local name=$1 expected=$2
  shift 2
  out=$(cd "$workspace" && as_user "$@" 2>&1 < /dev/null)
  local status=$?
  if [ "$status" = "$expected" ]; then
    passed=$((passed + 1))
    echo "ok   $name"
    return 0
  fi
  failed=$((failed + 1))
  echo "FAIL $name: exit $status, expected $expected"
  printf '%s\n' "$out" | sed 's/^/     | /' | head -20
  return 1
}
# expect NAME PATTERN: the last check's output must match the extended regex PATTERN
expect() {
  if printf '%s\n' "$out" | grep -Eq -- "$2"; then
    passed=$((passed + 1))
    echo "ok   $1"
  else
    failed=$((failed + 1))
    echo "FAIL $1: output does not match /$2/"
    printf '%s\n' "$out" | sed 's/^/     | /' | head -20
  fi
}
policy() { # policy NAME CONTENT -> path
  printf '%s' "$2" > "$scratch/$1.yaml"
  chmod 0644 "$scratch/$1.yaml"
  echo "$scratch/$1.yaml"
}

# --- the main job -------------------------------------------------------------------------
check "runs a command, exit 0" 0 "$AIRLOCK" run -- /bin/true
check "exit status passes through" 7 "$AIRLOCK" run -- sh -c 'exit 7'
check "killed by a signal gives 128+N" 143 "$AIRLOCK" run -- sh -c 'kill -TERM $$'
check "command not found is 127" 127 "$AIRLOCK" run -- no-such-command-xyz
expect "command not found says so" "cannot execute no-such-command-xyz"
check "work in the workspace succeeds" 0 "$AIRLOCK" run -- sh -c 'echo data > made-inside && cat made-inside'
[ -f "$workspace/made-inside" ] && { passed=$((passed + 1)); echo "ok   file written inside is on the host"; } \
  || { failed=$((failed + 1)); echo "FAIL file written inside is not on the host"; }
check "the system is read-only" 1 "$AIRLOCK" run -- sh -c 'touch /etc/airlock-test 2>/dev/null || exit 1'
host_marker=$(mktemp /tmp/airlock-host-marker.XXXXXX)
chmod 0644 "$host_marker"
check "/tmp is private" 0 "$AIRLOCK" run -- sh -c "test ! -e $host_marker"
rm -f "$host_marker"
check "/sys is not visible" 0 "$AIRLOCK" run -- sh -c 'test ! -e /sys/class'
check "pid namespace: the agent is pid 2" 0 "$AIRLOCK" run -- sh -c 'test $$ = 2'
check "no network: python cannot reach a public address" 0 "$AIRLOCK" run -- python3 -c '
import socket,sys
s = socket.socket(); s.settimeout(2)
try:
    s.connect(("192.0.2.1", 443)); sys.exit(1)
except OSError as e:
    print("blocked:", e)'
expect "no network: unreachable" "blocked: .*(unreachable|Network)"
check "no DNS resolution" 0 "$AIRLOCK" run -- python3 -c '
import socket,sys
try:
    socket.getaddrinfo("deb.debian.org", 443); sys.exit(1)
except OSError as e:
    print("blocked:", e)'
check "local IPC on the sandbox loopback works" 0 "$AIRLOCK" run -- python3 -c '
import socket, threading
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
port = server.getsockname()[1]
def serve():
    connection, _ = server.accept(); connection.sendall(connection.recv(16)); connection.close()
threading.Thread(target=serve).start()
client = socket.create_connection(("127.0.0.1", port)); client.sendall(b"ping")
assert client.recv(16) == b"ping"; print("ipc ok")'
check "no fd but stdio crosses" 0 "$AIRLOCK" run -- sh -c 'ls /proc/self/fd | sort -n | tr "\n" " " | grep -qx "0 1 2 3 " '
check "stdin passes through" 0 sh -c "echo piped | $AIRLOCK run -- sh -c 'read line; test \"\$line\" = piped'"
check "a terminal passes through" 0 script -qec "$AIRLOCK run -- sh -c 'test -t 0 && test -t 1'" /dev/null
check "no capabilities, no_new_privs, seccomp" 0 "$AIRLOCK" run -- sh -c \
  'grep -q "^CapEff:.0000000000000000" /proc/self/status && grep -q "^NoNewPrivs:.1" /proc/self/status && grep -q "^Seccomp:.2" /proc/self/status'
check "the sandbox user is not root" 0 "$AIRLOCK" run -- sh -c 'test "$(id -u)" != 0'

# --- the audit trail ----------------------------------------------------------------------
audit="$scratch/audit.jsonl"
touch "$audit" && chmod 0666 "$audit"
check "audit: run with --audit" 3 "$AIRLOCK" run --audit "$audit" -- sh -c 'exit 3'
out=$(cat "$audit")
expect "audit: start event with identity, hash and layers" '"event":"sandbox.start".*"layers":\[.*seccomp'
expect "audit: start event names the policy" '"policy":\{[^}]*"name":"default"[^}]*"sha256":"[0-9a-f]{64}"'
expect "audit: exit event with status, duration and peak memory" '"duration_ms":[0-9]+.*"event":"sandbox.exit".*"exit_code":3.*"peak_memory_bytes":[0-9]+'
expect "audit: every event carries the sandbox id" '"sandbox":\{"id":"[0-9a-f]{16}","name":"default"\}'

# --- limits -------------------------------------------------------------------------------
timeout_policy=$(policy timeout 'version: 1
name: timeout
process:
  timeout: 1s
')
start=$(date +%s)
check "timeout stops the sandbox" 143 "$AIRLOCK" run --policy "$timeout_policy" -- sleep 30
[ $(( $(date +%s) - start )) -lt 10 ] && { passed=$((passed + 1)); echo "ok   timeout took < 10 s"; } \
  || { failed=$((failed + 1)); echo "FAIL timeout took too long"; }
memory_policy=$(policy memory 'version: 1
name: memory
process:
  max_memory_mb: 64
')
if [ "$MODE" = root ]; then
  check "memory limit kills an allocation beyond it" 137 "$AIRLOCK" run --policy "$memory_policy" -- \
    python3 -c 'b = bytearray(256 * 1024 * 1024)'
  expect "memory limit is reported" "memory limit"
  check "memory limit allows work below it" 0 "$AIRLOCK" run --policy "$memory_policy" -- \
    python3 -c 'b = bytearray(16 * 1024 * 1024)'
else
  check "unenforceable memory limit is refused" 125 "$AIRLOCK" run --policy "$memory_policy" -- /bin/true
  expect "refusal says what was tried and why" "cannot enforce memory limit: cgroup v2: .+; cgroup v1: no writable memory controller"
  expect "refusal says how to run anyway" "pass --allow-degraded"
  check "--allow-degraded runs and says what is missing" 0 "$AIRLOCK" run --allow-degraded --policy "$memory_policy" -- /bin/true
  expect "degraded layer is listed" "degraded: memory limit"
fi
pids_policy=$(policy pids 'version: 1
name: pids
process:
  max_pids: 16
')
check "pids limit stops a fork bomb" 0 "$AIRLOCK" run --policy "$pids_policy" -- python3 -c '
import os, time
children = []
try:
    for _ in range(64):
        pid = os.fork()
        if pid == 0:
            time.sleep(5); os._exit(0)
        children.append(pid)
except BlockingIOError:
    print("fork refused after", len(children))
for pid in children: os.kill(pid, 9)
assert len(children) < 16, len(children)'
expect "fork refused below the limit" "fork refused after"
if [ "$MODE" = root ]; then
  # A pids cgroup holds the limit here, so it (not RLIMIT_NPROC) refuses and the audit says so.
  pids_audit="$scratch/pids-audit.jsonl"
  touch "$pids_audit" && chmod 0666 "$pids_audit"
  check "pids limit with audit" 1 "$AIRLOCK" run --audit "$pids_audit" --policy "$pids_policy" -- \
    python3 -c 'import os, time
for _ in range(64):
    if os.fork() == 0: time.sleep(5); os._exit(0)'
  out=$(cat "$pids_audit")
  expect "pids cgroup and the rlimit above it are listed" '"pids:rlimit-nproc=17","pids:cgroup-v[12]=16"'
  expect "refused forks are an audit event" '"event":"sandbox.limit","limit":"pids","max_pids":16,"refused_forks":[1-9]'
fi

# --- syscall allowlists -------------------------------------------------------------------
minimal=$(policy minimal 'version: 1
name: minimal
process:
  syscalls: [execve, brk, arch_prctl, mmap, munmap, mprotect, openat, read, close, newfstatat, pread64, access, set_tid_address, set_robust_list, rseq, prlimit64, getrandom, exit_group, fstat]
')
check "the exec minimum allowlist starts /bin/true" 0 "$AIRLOCK" run --policy "$minimal" -- /bin/true
(cd "$workspace" && as_user "$AIRLOCK" run --policy "$minimal" -- /bin/mkdir made-by-allowlist > /dev/null 2>&1 < /dev/null)
if [ $? != 0 ] && [ ! -e "$workspace/made-by-allowlist" ]; then
  passed=$((passed + 1)); echo "ok   an allowlist blocks what it does not list (mkdir)"
else
  failed=$((failed + 1)); echo "FAIL mkdir ran under an allowlist without mkdir"
fi
seed=$(policy security_context 'enforce:
  network: deny_all
  bind_address: unix:///run/goose/agent.sock
  allowed_syscalls: [read, write, open]
  max_memory_mb: 512
  credential_ttl: 300
')
check "seed security_context: too-small allowlist is an error" 2 "$AIRLOCK" check "$seed"
expect "error names file:line:col and the missing syscalls" "security_context.yaml:4:21: .*missing execve.*mmap"

# --- bad input ----------------------------------------------------------------------------
typo=$(policy typo 'version: 1
name: typo
netwrok:
  mode: deny_all
')
check "unknown key is exit 2" 2 "$AIRLOCK" run --policy "$typo" -- /bin/true
expect "unknown key: file:line:col and a suggestion" "typo.yaml:3:1: unknown key 'netwrok' in the policy; did you mean 'network'\?"
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && { passed=$((passed + 1)); echo "ok   bad input is one line"; } \
  || { failed=$((failed + 1)); echo "FAIL bad input is not one line"; }
wrong_type=$(policy wrong_type 'version: 1
name: wrong
process:
  max_pids: lots
')
check "wrong type is exit 2" 2 "$AIRLOCK" check "$wrong_type"
expect "wrong type names the value" "wrong_type.yaml:4:13: max_pids must be a whole number"
broken=$(policy broken 'version: 1
name: [unclosed
')
check "invalid YAML is exit 2" 2 "$AIRLOCK" check "$broken"
expect "invalid YAML has a location" "broken.yaml:[0-9]+:[0-9]+: not valid YAML"
later=$(policy later 'version: 1
name: later
network:
  mode: observe
')
check "keys of later issues are refused at run time" 2 "$AIRLOCK" run --policy "$later" -- /bin/true
expect "refusal says not supported yet" "later.yaml:4:9: network mode observe .*not supported yet"
check "check validates such a policy and warns" 0 "$AIRLOCK" check "$later"
expect "check warns" "warning: .*not supported yet"
ignored=$(policy ignored 'version: 1
name: ignored
network:
  mode: deny_all
  allow: [api.example.com:443]
')
check "allow rules under deny_all are refused, not ignored" 2 "$AIRLOCK" run --policy "$ignored" -- /bin/true
expect "refusal says what to write" "ignored.yaml:5:11: network allow has no effect with mode deny_all; write mode: allowlist"
check "a bad --allow is a usage error" 2 "$AIRLOCK" run --allow api.example.com -- /bin/true
expect "bad --allow names the problem" "--allow: 'api.example.com' has no port"
check "an allowlist run starts and exits 0" 0 "$AIRLOCK" run --allow api.example.com:443 -- /bin/true
hard_files=$(ulimit -Hn)
if [ "$hard_files" != unlimited ] && [ "$hard_files" -lt 1048576 ]; then
  too_many_files=$(policy too_many_files 'version: 1
name: files
process:
  max_open_files: 1048576
')
  check "max_open_files above the hard limit is refused up front" 2 "$AIRLOCK" run --policy "$too_many_files" -- /bin/true
  expect "refusal names the limit" "too_many_files.yaml:4:19: process max_open_files 1048576 is above this session's hard limit of $hard_files"
fi
check "--policy with --profile conflicts" 2 "$AIRLOCK" run --policy "$typo" --profile default -- /bin/true
check "a workspace of / is refused" 2 "$AIRLOCK" run --workspace / -- /bin/true
expect "refusal names the system directory" "would make the system directory /usr writable"
check "missing command is a usage error" 2 "$AIRLOCK" run
# --- check's lint: exit 0 clean, 1 warnings under --strict, 2 errors -------------------------
limited=$(policy limited 'version: 1
name: limited
process:
  max_memory_mb: 512
')
check "check: a clean policy passes --strict" 0 "$AIRLOCK" check --strict "$limited"
expect "check ends with the summary and the explain hint" "^0 errors, 0 warnings$"
expect "check points to airlock explain" "^capabilities: airlock explain .*limited.yaml$"
check "check: warnings pass without --strict" 0 "$AIRLOCK" check "$timeout_policy"
check "check: warnings fail under --strict" 1 "$AIRLOCK" check --strict "$timeout_policy"
expect "a warning has file:line:col, code and fix" "timeout.yaml:[0-9]+:[0-9]+: warning: \[process.no-memory-limit\]"
expect "the fix follows on its own line" "^  fix: add process.max_memory_mb"
wildcard=$(policy wildcard 'version: 1
name: wildcard
process: {max_memory_mb: 512}
network:
  mode: allowlist
  allow: ["*.amazonaws.com:443"]
')
check "check: an error finding is exit 2" 2 "$AIRLOCK" check "$wildcard"
expect "the error names the rule's place" "wildcard.yaml:6:11: error: \[network.wildcard-shared-tenant\]"
check "check --json: the findings and the policy" 2 "$AIRLOCK" check --json "$wildcard"
expect "check --json has its schema" '"schema": "airlock.check/v1"'

# --- the supervisor's death ---------------------------------------------------------------
marker="airlock-orphan-$$-$RANDOM"
(cd "$workspace" && as_user "$AIRLOCK" run -- sh -c "sleep 300 & exec -a $marker sleep 301" < /dev/null > /dev/null 2>&1 &)
sleep 1
pkill -KILL -f "^$AIRLOCK run -- sh -c sleep 300" || pkill -KILL -x airlock
sleep 1
if pgrep -f "$marker" > /dev/null || pgrep -fx "sleep 300" > /dev/null; then
  failed=$((failed + 1)); echo "FAIL sandbox processes survived airlock's SIGKILL"
  pkill -KILL -f "$marker"
else
  passed=$((passed + 1)); echo "ok   every sandbox process dies with airlock (SIGKILL)"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
