#!/usr/bin/env bash
# `airlock mcp` as an MCP client meets it: the official TypeScript SDK's Client and
# StdioClientTransport (client.mjs) spawn `airlock mcp --workspace DIR`; this script checks
# what each step printed, and that nothing is left running once the client has closed.
# Usage: run_mcp.sh AIRLOCK_BINARY [root|nobody]
set -u
AIRLOCK_SOURCE=${1:?usage: run_mcp.sh AIRLOCK_BINARY [root|nobody]}
MODE=${2:-root}
HERE=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0

# The SDK, pinned in package.json, from the npm registry; one install at a time (both modes
# may run at once under ctest -j).
(
  flock 9
  [ -d "$HERE/node_modules/@modelcontextprotocol/sdk" ] ||
    (cd "$HERE" && npm install --no-audit --no-fund >&2)
) 9>"$HERE/.install.lock" || { echo "FAIL npm install of @modelcontextprotocol/sdk"; exit 1; }

scratch=$(mktemp -d /tmp/airlock-mcp.XXXXXX)
chmod 0755 "$scratch"
trap 'rm -rf "$scratch"' EXIT
install -m 0755 "$AIRLOCK_SOURCE" "$scratch/airlock"
workspace="$scratch/workspace"
markers="$scratch/markers"  # on the host: the sandbox's /tmp is private, so only the host writes here
mkdir -p "$workspace" "$markers" "$scratch/home"
chmod 0777 "$markers" "$scratch/home"
if [ "$MODE" = nobody ]; then
  [ "$(id -u)" = 0 ] || { echo "nobody mode needs root to switch users"; exit 1; }
  chown -R 65534:65534 "$workspace"
fi
as_user() {
  if [ "$MODE" = nobody ]; then
    setpriv --reuid=65534 --regid=65534 --clear-groups -- env HOME="$scratch/home" "$@"
  else
    env HOME="$scratch/home" "$@"
  fi
}

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
# expect NAME STEP JQ_FILTER: the filter, applied to STEP's value, must print true
expect() {
  local value
  value=$(jq -c --arg step "$2" 'select(.step == $step) | .value' "$scratch/out.jsonl")
  if [ -n "$value" ] && [ "$(printf '%s' "$value" | jq "$3" 2>/dev/null)" = true ]; then
    ok "$1"
  else
    fail "$1: $2 = ${value:-<missing>}"
  fi
}

started=$(date +%s)
(cd "$workspace" && as_user timeout 240 node "$HERE/client.mjs" "$scratch/airlock" "$workspace" \
  "$markers") > "$scratch/out.jsonl" 2> "$scratch/err.log"
status=$?
[ "$status" = 0 ] && ok "the client ran every step (exit 0)" || {
  fail "the client exited $status"
  sed 's/^/     | /' "$scratch/err.log" | tail -20
}

expect "serverInfo is airlock 0.1.0" server '.version == {"name":"airlock","version":"0.1.0"}'
expect "tools/list has the four tools" tools '. == ["list_directory","read_file","run","write_file"]'
expect "run echo hello: stdout hello, exit 0" echo \
  '.isError == false and .structuredContent.stdout == "hello\n" and .structuredContent.exit_code == 0'
expect "run echo hello: the text labels stdout" echo '.content[0].text | test("--- stdout ---\nhello\n")'
expect "run curl: no network, a non-zero exit as a normal result" curl \
  '.isError == false and .structuredContent.exit_code != 0 and .structuredContent.timed_out == false'
expect "a result that looks like a command comes back as text" lookalike \
  '.structuredContent.stdout | test("\\$\\(touch .*/pwned-HOST\\)")'
if [ -z "$(ls -A "$markers")" ]; then ok "nothing on the host ran the result"; else
  fail "the host created $(ls -A "$markers")"; fi
expect "write_file succeeds" write '.isError == false'
expect "read_file returns what write_file wrote" read \
  '.isError == false and .content[0].text == "line one\nline two $(x)\n"'
[ "$(cat "$workspace/notes/hello.txt" 2>/dev/null)" = $'line one\nline two $(x)' ] &&
  ok "the file is in the workspace on the host" || fail "the file is not in the workspace"
expect "list_directory shows it" list '.isError == false and (.content[0].text | test("hello.txt"))'
expect "read_file /etc/shadow: isError with the sandbox's reason" shadow \
  '.isError == true and (.content[0].text | test("^cat: /etc/shadow: (Permission denied|No such file)"))'
expect "read_file /root/.ssh/id_rsa: isError with the sandbox's reason" ssh \
  '.isError == true and (.content[0].text | test("^cat: /root/.ssh/id_rsa: "))'
expect "run sleep 30 with timeout_s 1: timed out" timeout \
  '.result.isError == false and .result.structuredContent.timed_out == true'
expect "run sleep 30 with timeout_s 1: back within 5 s" timeout '.elapsed_ms < 5000'
expect "the client closed" closed '. == true'

# The server (mcp-PID) has stopped its session before exiting.
server_pid=$(jq -r 'select(.step == "server") | .value.pid' "$scratch/out.jsonl")
leftover=""
for _ in $(seq 50); do
  leftover=$(pgrep -af "mcp-$server_pid( |$)" || true)
  [ -z "$leftover" ] && break
  sleep 0.1
done
[ -n "$server_pid" ] && [ -z "$leftover" ] && ok "no session left after the client closed" ||
  fail "left running after close (server pid ${server_pid:-?}): $leftover"
sessions=$(as_user "$scratch/airlock" ps --json | jq --arg n "mcp-$server_pid" '[.[] | select(.name == $n)] | length')
[ "$sessions" = 0 ] && ok "airlock ps lists no mcp-$server_pid" || fail "airlock ps still lists mcp-$server_pid"
[ $(($(date +%s) - started)) -lt 120 ] && ok "the whole run took under 2 minutes" ||
  fail "the run took $(($(date +%s) - started)) s"

echo "mcp ($MODE): $passed passed, $failed failed"
[ "$failed" = 0 ]
