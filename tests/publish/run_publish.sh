#!/usr/bin/env bash
# publish through the real binary, as root or as uid 65534: a session whose policy publishes
# 127.0.0.1:8080 inside (an HTTP server the test starts with airlock exec) and a socket the agent
# creates itself (the seed's bind_address form). curl --unix-socket reaches both; the socket's
# mode and uid list hold (another uid, and a process in another user namespace, are refused and
# audited); no TCP listener appears on the host; nothing listening inside is an audited error;
# a TCP bind_address and a live socket at the path are refused with one line; stopping the
# session removes the sockets and the private directory. Usage: run_publish.sh AIRLOCK [root|nobody]
set -u
AIRLOCK_SOURCE=${1:?usage: run_publish.sh AIRLOCK_BINARY [root|nobody]}
MODE=${2:-root}
[ "$(id -u)" = 0 ] || { echo "the publish tests need root (setpriv, other uids)"; exit 1; }
. "$(dirname "$0")/../lib/checks.sh"  # pass, fail, expect, reject, as_user
scratch=$(mktemp -d /tmp/airlock-publish.XXXXXX)
chmod 0755 "$scratch"
install -m 0755 "$AIRLOCK_SOURCE" "$scratch/airlock"
AIRLOCK="$scratch/airlock"
workspace="$scratch/workspace"
mkdir -p "$workspace" "$scratch/home"
SESSION="pub-$$"
OTHER_UID=65533     # listed in the policy's uids
STRANGER_UID=65532  # listed nowhere
# Host paths of the published sockets: root publishes under /run, uid 65534 under /tmp (the only
# place it may create a directory). The agent's own socket is at the same path inside.
base=$([ "$MODE" = nobody ] && echo "/tmp" || echo "/run")/airlock-publish-test-$$
api_socket="$base/api/http.sock"
open_socket="$base/open/http.sock"
agent_socket="$base/agent/agent.sock"
audit="$scratch/home/audit.jsonl"
cleanup() {
  as_user "$AIRLOCK" stop --grace 1s "$SESSION" > /dev/null 2>&1
  as_user "$AIRLOCK" stop --grace 1s "pubrun-$$" > /dev/null 2>&1
  rm -rf "$scratch" "$base"
}
trap cleanup EXIT

as_uid() { # as_uid UID COMMAND...: another local user
  local uid=$1
  shift
  setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}
if [ "$MODE" = nobody ]; then
  chown 65534:65534 "$workspace" "$scratch/home"
  owner_uid=65534
  control_dir=/tmp/airlock-65534
else
  owner_uid=0
  control_dir=/run/airlock
fi

audit_events() { # audit_events EVENT: the audit lines of that event
  grep -F "\"event\":\"$1\"" "$audit" 2> /dev/null
}

cat > "$scratch/publish.yaml" << EOF_
version: 1
name: publish-test
publish:
  - unix: $api_socket
    port: 8080
    mode: "0666"
    uids: [$OTHER_UID]
  - unix: $open_socket
    port: 8081
  - unix: $agent_socket
EOF_
chmod 0644 "$scratch/publish.yaml"
echo "hello through the published socket" > "$workspace/index.html"
chown -R --reference="$workspace" "$workspace/index.html"

listeners_before=$(ss -Hltn | awk '{print $4}' | sort)
directories_before=$(ls -d "$control_dir"/publish-* 2> /dev/null | sort)
started=$(cd "$workspace" && as_user "$AIRLOCK" session start --allow-degraded --name "$SESSION" \
  --policy "$scratch/publish.yaml" --audit "$audit" 2>&1)
status=$?
if [ "$status" != 0 ]; then
  fail "session with publish entries starts: exit $status" "$started"
  echo "publish ($MODE): $passed passed, $failed failed"
  exit 1
fi
pass "session with publish entries starts"

# The agent's side: an HTTP server on 127.0.0.1:8080 and a Unix socket server of its own.
as_user "$AIRLOCK" exec "$SESSION" -- sh -c \
  'cd "$1" && setsid /usr/bin/python3 -m http.server --bind 127.0.0.1 8080 > /dev/null 2>&1 < /dev/null &' \
  sh "$workspace" > /dev/null 2>&1
as_user "$AIRLOCK" exec "$SESSION" -- sh -c 'setsid /usr/bin/python3 -c "
import socket, sys
server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen()
while True:
    connection, _ = server.accept()
    line = connection.recv(1000)
    connection.sendall(b\"agent got: \" + line)
    connection.close()
" "$1" > /dev/null 2>&1 < /dev/null &' sh "$agent_socket" > /dev/null 2>&1
for _ in $(seq 50); do
  as_user "$AIRLOCK" exec "$SESSION" -- sh -c "test -S '$agent_socket' && /usr/bin/python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 8080)).close()'" > /dev/null 2>&1 && break
  sleep 0.1
done

# ---- port: curl --unix-socket reaches the server inside ---------------------------------------
out=$(as_user curl -sS --max-time 5 --unix-socket "$api_socket" http://agent/index.html 2>&1)
expect "the owner reaches 127.0.0.1:8080 inside through $api_socket" \
  '^hello through the published socket$' "$out"
expect "publish.connect allow names the peer (uid $owner_uid, curl)" \
  "\"decision\":\"allow\".*\"peer\":\\{\"exe\":\"[^\"]*curl\".*\"uid\":$owner_uid\\}" \
  "$(audit_events publish.connect)"
sleep 0.2
expect "publish.close counts the bytes" '"bytes_in":[1-9][0-9]*,"bytes_out":[1-9][0-9]*' \
  "$(audit_events publish.close)"

# ---- the socket's mode and owner, and the uid list --------------------------------------------
expect "the socket has the policy's mode and the owner's uid" "^666 $owner_uid 600 $owner_uid\$" \
  "$(stat -c '%a %u' "$api_socket" "$open_socket" | tr '\n' ' ' | sed 's/ $//')"
out=$(as_uid $OTHER_UID curl -sS --max-time 5 --unix-socket "$api_socket" http://agent/index.html 2>&1)
expect "a listed uid ($OTHER_UID) is let in" '^hello through the published socket$' "$out"
out=$(as_uid $STRANGER_UID curl -sS --max-time 5 --unix-socket "$api_socket" http://agent/index.html 2>&1)
if printf '%s\n' "$out" | grep -q "hello through"; then
  fail "an unlisted uid ($STRANGER_UID) is refused" "$out"
else
  pass "an unlisted uid ($STRANGER_UID) is refused"
fi
expect "the refusal is audited with the uid and the reason" \
  "\"decision\":\"deny\".*\"uid\":$STRANGER_UID\\}.*\"reason\":\"uid $STRANGER_UID is neither" \
  "$(audit_events publish.connect)"
out=$(as_uid $OTHER_UID curl -sS --max-time 5 --unix-socket "$open_socket" http://agent/ 2>&1)
expect "mode 0600: another uid cannot even connect (the filesystem refuses)" \
  'Permission denied|Couldn.t connect' "$out"
out=$(as_user unshare -U curl -sS --max-time 5 --unix-socket "$api_socket" http://agent/index.html 2>&1)
if printf '%s\n' "$out" | grep -q "hello through"; then
  fail "a process in another user namespace is refused" "$out"
else
  pass "a process in another user namespace is refused"
fi
expect "... and audited as such" '"reason":"pid [0-9]+ is in another user namespace' \
  "$(audit_events publish.connect)"

# ---- the agent's own socket -------------------------------------------------------------------
out=$(printf 'ping\n' | as_user timeout 5 /usr/bin/python3 -c '
import socket, sys
client = socket.socket(socket.AF_UNIX)
client.connect(sys.argv[1])
client.sendall(b"ping\n")
print(client.recv(1000).decode().strip())' "$agent_socket" 2>&1)
expect "the agent's own socket answers at the same path on the host" '^agent got: ping$' "$out"
expect "its connection is audited" "\"socket\":\"$agent_socket\".*\"to\":\"unix:$agent_socket\"" \
  "$(audit_events publish.connect | grep '"allow"')"

# ---- nothing listening inside -----------------------------------------------------------------
out=$(as_user curl -sS --max-time 5 --unix-socket "$open_socket" http://agent/ 2>&1)
expect "nothing on 127.0.0.1:8081 inside: the connection ends" 'curl: \([0-9]+\)' "$out"
expect "... and is an audited error" \
  '"decision":"error".*"reason":"nothing accepts on 127.0.0.1:8081 inside the sandbox' \
  "$(audit_events publish.connect)"

# ---- no TCP port on the host ------------------------------------------------------------------
listeners_after=$(ss -Hltn | awk '{print $4}' | sort)
new_listeners=$(comm -13 <(printf '%s\n' "$listeners_before") <(printf '%s\n' "$listeners_after"))
if [ -z "$new_listeners" ]; then
  pass "ss shows no new TCP listener on the host"
else
  fail "ss shows no new TCP listener on the host" "$new_listeners"
fi

# ---- a live socket at the path, and a TCP bind_address, are refused -------------------------
out=$(cd "$workspace" && as_user "$AIRLOCK" run --allow-degraded --policy "$scratch/publish.yaml" -- true 2>&1)
status=$?
expect "a second sandbox publishing the same path is refused with one line (exit $status)" \
  "^airlock: cannot publish $api_socket: a live socket is there" "$out"
printf 'version: 1\nname: tcp\npublish:\n  - unix: tcp://127.0.0.1:8080\n' > "$scratch/tcp.yaml"
out=$(as_user "$AIRLOCK" check "$scratch/tcp.yaml" 2>&1)
status=$?
if [ "$status" = 2 ]; then pass "a TCP bind address fails check (exit 2)"; else fail "a TCP bind address fails check: exit $status" "$out"; fi
expect "... with FILE:LINE:COL and what to write instead" \
  "tcp.yaml:4:11: publish unix 'tcp://127.0.0.1:8080' is a TCP address: .*write a Unix socket" "$out"

# ---- airlock run, with the egress proxy's capture in the namespace --------------------------
# The capture redirects outbound TCP to the proxy: the published port on 127.0.0.1 must not be.
RUN_NAME="pubrun-$$"
run_socket="$base/run/http.sock"
printf 'version: 1\nname: publish-run\npublish:\n  - unix: %s\n    port: 9090\n' "$run_socket" \
  > "$scratch/run.yaml"
chmod 0644 "$scratch/run.yaml"
(cd "$workspace" && as_user "$AIRLOCK" run --allow-degraded --name "$RUN_NAME" --allow example.test:443 \
  --policy "$scratch/run.yaml" -- /usr/bin/python3 -m http.server --bind 127.0.0.1 9090 \
  > /dev/null 2>&1 &)
out=""
for _ in $(seq 50); do
  out=$(as_user curl -sS --max-time 5 --unix-socket "$run_socket" http://agent/index.html 2>&1) && break
  sleep 0.1
done
expect "airlock run with an allowlist: the published port answers" \
  '^hello through the published socket$' "$out"
as_user "$AIRLOCK" stop --grace 2s "$RUN_NAME" > /dev/null 2>&1
if [ ! -e "$run_socket" ]; then pass "airlock stop removes the run's socket"; else fail "airlock stop removes the run's socket"; fi

# ---- stop: the sockets and the private directory go ----------------------------------------
as_user "$AIRLOCK" stop --grace 2s "$SESSION" > /dev/null 2>&1
left=$(ls -d "$api_socket" "$open_socket" "$agent_socket" 2> /dev/null
  comm -13 <(printf '%s\n' "$directories_before") <(ls -d "$control_dir"/publish-* 2> /dev/null | sort))
if [ -z "$left" ]; then
  pass "stop removes the published sockets and the private directory"
else
  fail "stop removes the published sockets and the private directory" "$left"
fi
expect "open connections and refusals are all in the verified chain" ': ok, ' \
  "$("$AIRLOCK" audit verify "$audit" 2>&1 | head -1)"

echo "publish ($MODE): $passed passed, $failed failed"
[ "$failed" = 0 ]
