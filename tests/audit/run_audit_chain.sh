#!/usr/bin/env bash
# Two `airlock run --audit FILE` sandboxes append to one file at once; `airlock audit verify`
# passes the file, prints the hash to ship elsewhere, and names the line of each edit made to a
# copy (a changed byte, a deleted, swapped, inserted or duplicated line, a line cut short).
# Usage: run_audit_chain.sh AIRLOCK_BINARY [root|nobody]
# shellcheck disable=SC2016 # single-quoted awk and sed programs: their $0 and $ are theirs
set -u
AIRLOCK_SOURCE=${1:?usage: run_audit_chain.sh AIRLOCK_BINARY [root|nobody]}
MODE=${2:-root}
. "$(dirname "$0")/../lib/checks.sh"  # pass, fail, expect, reject, as_user
scratch=$(mktemp -d /tmp/airlock-audit-chain.XXXXXX)
chmod 0755 "$scratch"
trap 'rm -rf "$scratch"' EXIT
install -m 0755 "$AIRLOCK_SOURCE" "$scratch/airlock"
AIRLOCK="$scratch/airlock"
logs="$scratch/logs"  # the user running airlock owns it: the audit file is created there
mkdir -p "$logs" "$scratch/home" "$scratch/workspace"

if [ "$MODE" = nobody ]; then
  [ "$(id -u)" = 0 ] || { echo "nobody mode needs root to switch users"; exit 1; }
  chown 65534:65534 "$logs" "$scratch/home" "$scratch/workspace"
fi

# verify NAME EXPECTED_EXIT PATTERN FILE: `airlock audit verify FILE` as the user; the output must
# match the extended regex PATTERN.
verify() {
  local name=$1 expected=$2 pattern=$3 file=$4
  out=$(as_user "$AIRLOCK" audit verify "$file" 2>&1 < /dev/null)
  local status=$?
  if [ "$status" != "$expected" ]; then
    fail "$name: exit $status, expected $expected" "$out"
  elif ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
    fail "$name: output does not match /$pattern/" "$out"
  else
    pass "$name"
  fi
}
# edited NAME COMMAND...: a copy of the log through COMMAND (the log on stdin), owned by the user.
edited() {
  local copy="$logs/$1.jsonl"
  shift
  "$@" < "$audit" > "$copy"
  [ "$MODE" = nobody ] && chown 65534:65534 "$copy"
  echo "$copy"
}

# --- two sandboxes at once, one file ---------------------------------------------------------
# Each looks up names no rule allows: the DNS stub (the proxy's thread) answers NXDOMAIN and
# records a decision, asking nothing upstream, so events from two supervisors and their proxy
# threads interleave while both run.
audit="$logs/audit.jsonl"
lookups='
import socket, time
for i in range(6):
    try:
        socket.getaddrinfo("blocked-%d.example.test" % i, 443, type=socket.SOCK_STREAM)
    except OSError:
        pass
    time.sleep(0.05)
'
run_sandbox() {
  (cd "$scratch/workspace" && as_user "$AIRLOCK" run --audit "$audit" --allow 127.0.0.1:9 \
    -- python3 -c "$lookups" > "$scratch/run-$1.out" 2>&1 < /dev/null)
}
run_sandbox one &
first=$!
run_sandbox two &
second=$!
if wait "$first" && wait "$second"; then
  pass "two sandboxes ran at once with --audit on one file"
else
  fail "a sandbox failed" "$(cat "$scratch"/run-*.out)"
fi

events=$(wc -l < "$audit")
decisions=$(grep -c '"event":"egress.decision"' "$audit")
sandboxes=$(grep -o '"id":"[0-9a-f]\{16\}"' "$audit" | sort -u | wc -l)
if [ "$decisions" -ge 4 ] && [ "$sandboxes" = 2 ]; then
  pass "both sandboxes and their proxies wrote events ($events lines)"
else
  fail "expected egress decisions from 2 sandboxes: $decisions decisions, $sandboxes sandboxes" \
    "$(cut -c1-200 "$audit")"
fi
verify "verify passes the concurrent log" 0 \
  "^$audit: ok, $events events, seq 1\.\.$events, last sha256 [0-9a-f]{64}$" "$audit"

# The hash verify prints is the last line's bytes without their newline.
shipped=$(printf '%s\n' "$out" | sed -E 's/.*last sha256 ([0-9a-f]{64})$/\1/')
by_hand=$(tail -n 1 "$audit" | tr -d '\n' | sha256sum | cut -d' ' -f1)
if [ "$shipped" = "$by_hand" ]; then
  pass "the printed hash is tail -n1 | tr -d '\\n' | sha256sum"
else
  fail "verify printed $shipped, the last line hashes to $by_hand"
fi

run_sandbox three || fail "a third sandbox failed" "$(cat "$scratch/run-three.out")"
total=$(wc -l < "$audit")
verify "a later sandbox continues the chain" 0 "ok, $total events, seq 1\.\.$total," "$audit"
line=$((events + 1))
if sed -n "${line}p" "$audit" | grep -q "^{\"seq\":$line,\"prev\":\"$shipped\","; then
  pass "its first event chains from the last line already there"
else
  fail "line $line does not chain from the shipped hash" "$(sed -n "${line}p" "$audit" | cut -c1-160)"
fi

# --- edits are named at their line -----------------------------------------------------------
verify "a changed byte is named at its line" 1 ":3: edited" \
  "$(edited byte sed '3s/"event":"/"event":"x/')"
verify "a deleted line is named where the seq jumps" 1 ":4: seq 5 follows seq 3: 1 line deleted" \
  "$(edited deleted sed '4d')"
verify "two swapped lines are named" 1 ":5: lines 5 and 6 are swapped" \
  "$(edited swapped awk 'NR == 5 { held = $0; next } NR == 6 { print; print held; next } { print }')"
verify "a line inserted by hand is named" 1 ":3: no seq or prev" \
  "$(edited inserted sed '3i {"event":"sandbox.exit","exit_code":0}')"
verify "a duplicated line is named" 1 ":5: a copy of line 4" "$(edited duplicated sed '4p')"
verify "a line cut short in the middle is named" 1 ":6: not a JSON object: the line was cut short" \
  "$(edited cut awk 'NR == 6 { print substr($0, 1, int(length($0) / 2)); next } { print }')"
verify "a file cut mid-line is named at its last line" 1 ":$total: the last line has no newline" \
  "$(edited tail_cut head -c -20)"
by_hand_total=$(tail -n 1 "$audit" | tr -d '\n' | sha256sum | cut -d' ' -f1)
# The last line has no line after it to hold its hash: only the shipped hash shows the edit.
last_edited=$(edited last_line sed '$s/"event":"/"event":"x/')
verify "an edited last line passes the chain" 0 "ok, $total events" "$last_edited"
if printf '%s\n' "$out" | grep -q "last sha256 $by_hand_total"; then
  fail "the edited last line kept its hash" "$out"
else
  pass "but its last sha256 differs from the one shipped before the edit"
fi
# With the hash shipped before, the edit and a cut tail are both caught; the log as written passes.
expect_last() { # NAME EXPECTED_EXIT PATTERN FILE
  out=$(as_user "$AIRLOCK" audit verify --expect-last "$by_hand_total" "$4" 2>&1 < /dev/null)
  local status=$?
  if [ "$status" = "$2" ] && printf '%s\n' "$out" | grep -Eq -- "$3"; then
    pass "$1"
  else
    fail "$1: exit $status, expected $2 and /$3/" "$out"
  fi
}
expect_last "--expect-last passes the log as written" 0 "ok, $total events" "$audit"
expect_last "--expect-last catches the edited last line" 1 "no line has the expected sha256" \
  "$last_edited"
expect_last "--expect-last catches a cut tail" 1 "no line has the expected sha256" \
  "$(edited cut_tail sed '$d')"

# --- what is not a log ------------------------------------------------------------------------
verify "a missing file is exit 2" 2 "no-such.jsonl: cannot read the audit log: No such file" \
  "$logs/no-such.jsonl"
verify "a directory is exit 2, not an empty log" 2 "it is a directory" "$logs"
empty=$(edited empty true)
verify "an empty file is an intact log of no events" 0 "ok, 0 events$" "$empty"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
