#!/usr/bin/env bash
# Linked sandboxes through the real binary, as root or as uid 65534: `airlock up -f stack.yaml`
# starts a PostgreSQL from Debian's packages (initdb in its own workspace) in `vectordb`, then
# `agent`, linked to vectordb:5432, and `outsider`, linked to nothing. psql from agent reaches
# the database by name (/etc/hosts, and the DNS stub: node's resolver asks it directly); agent
# cannot reach another port of vectordb; outsider cannot resolve or reach it; vectordb cannot
# resolve agent or reach the outside; both ends of every crossing are audited with both names;
# no TCP listener appears on the host; a stopped vectordb is an audited error for agent; bad
# stack files, a target that never listens and a second `up` are refused with one line and
# leave nothing running; `down` stops everything. Usage: run_link.sh AIRLOCK [root|nobody]
set -u
AIRLOCK_SOURCE=${1:?usage: run_link.sh AIRLOCK_BINARY [root|nobody]}
MODE=${2:-root}
[ "$(id -u)" = 0 ] || { echo "the link tests need root (setpriv)"; exit 1; }
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)
[ -x "$PG_BIN/postgres" ] || { echo "PostgreSQL is not installed (scripts/install-deps.sh --test)"; exit 1; }
. "$(dirname "$0")/../lib/checks.sh"  # pass, fail, expect, reject, as_user
scratch=$(mktemp -d /tmp/airlock-link.XXXXXX)
chmod 0755 "$scratch"
install -m 0755 "$AIRLOCK_SOURCE" "$scratch/airlock"
AIRLOCK="$scratch/airlock"
stack_dir="$scratch/stack"
mkdir -p "$stack_dir" "$scratch/home"
STACK="link$$"
AS_USER_ENV=(PATH="$PG_BIN:$PATH")
audit="$scratch/home/audit.jsonl"
if [ "$MODE" = nobody ]; then
  chown 65534:65534 "$stack_dir" "$scratch/home"
  control_dir=/tmp/airlock-65534
else
  control_dir=/run/airlock
fi

cleanup() {
  for stack in "$stack_dir"/*.yaml; do
    as_user "$AIRLOCK" down --grace 1s -f "$stack" > /dev/null 2>&1
  done
  rm -rf "$scratch"
}
trap cleanup EXIT

# up_fails NAME EXIT [UP OPTIONS] -f FILE: `airlock up` must exit with EXIT; sets $output.
up_fails() {
  local name=$1 expected=$2
  shift 2
  output=$(cd "$stack_dir" && as_user "$AIRLOCK" up "$@" 2>&1)
  local status=$?
  if [ $status -eq "$expected" ]; then pass "$name"; else fail "$name: exit $status" "$output"; fi
}
audit_events() { grep -F "\"event\":\"$1\"" "$audit" 2> /dev/null; }
running() { as_user "$AIRLOCK" ps 2> /dev/null | awk 'NR > 1 { print $1 }'; }
host_listeners() { ss -Hltn | awk '{ print $4 }' | sort; }
write() { # write FILE: stdin into the stack directory, readable by the user
  cat > "$stack_dir/$1"
  chmod 0644 "$stack_dir/$1"
}

write agent.yaml << 'EOF_'
version: 1
name: agent
network:
  mode: allowlist
  dns_upstream: 127.0.0.1:1
  allow: []
EOF_
write closed.yaml << 'EOF_'
version: 1
name: closed
network:
  mode: deny_all
EOF_
# vectordb looks around before it serves: what it finds is in its workspace for the test.
write stack.yaml << EOF_
version: 1
name: $STACK
sandboxes:
  agent:
    policy: agent.yaml
    links: [vectordb:5432]
  outsider:
    policy: agent.yaml
  vectordb:
    policy: closed.yaml
    command:
      - bash
      - -c
      - |
        getent hosts agent > probe.txt 2>&1 || echo "agent: no such name" >> probe.txt
        (exec 3<> /dev/tcp/127.100.0.2/5432) 2>> probe.txt || echo "127.100.0.2:5432: refused" >> probe.txt
        curl -sS --max-time 3 http://93.184.215.14/ >> probe.txt 2>&1 || echo "outside: unreachable" >> probe.txt
        initdb -D ./pgdata -A trust -U agent > initdb.log 2>&1 || exit 1
        exec postgres -D ./pgdata -k /tmp -c listen_addresses=127.0.0.1
EOF_

listeners_before=$(host_listeners)
output=$(cd "$stack_dir" && as_user "$AIRLOCK" up --audit "$audit" -f stack.yaml 2>&1)
status=$?
if [ $status -eq 0 ]; then pass "up starts the stack"; else fail "up exits $status" "$output"; fi
names=$(running)
expect "ps lists vectordb" "^$STACK\.vectordb$" "$names"
expect "ps lists agent" "^$STACK\.agent$" "$names"
expect "ps lists outsider" "^$STACK\.outsider$" "$names"
order=$(printf '%s\n' "$output" | grep -E "^$STACK\." | tr '\n' ' ')
expect "vectordb starts before agent" "^$STACK\.vectordb .*$STACK\.agent" "$order"
info=$(as_user "$AIRLOCK" ps --json 2>&1)
expect "ps --json shows the link out" "\"to\": \"$STACK\.vectordb\"" "$info"
expect "ps --json shows vectordb listening" "\"port\": 5432" "$info"

psql_in() { # psql_in SANDBOX ARGS...: psql inside it, as the database's user
  local sandbox=$1
  shift
  as_user "$AIRLOCK" exec --timeout 20s "$STACK.$sandbox" -- psql -U agent -d postgres -At "$@" 2>&1
}
answer=$(psql_in agent -h vectordb -p 5432 -c "select 40 + 2")
expect "agent: psql reaches vectordb by name" "^42$" "$answer"
answer=$(psql_in agent -h vectordb -p 5432 -c "create table notes (t text); insert into notes values ('kept'); select t from notes")
expect "agent: psql writes and reads a table" "^kept$" "$answer"
resolved=$(as_user "$AIRLOCK" exec "$STACK.agent" -- node -e \
  "require('dns').promises.resolve4('vectordb').then(a => console.log(a.join()), e => console.log('error ' + e.code))" 2>&1)
expect "agent: the DNS stub answers the link's name" "^127\.100\.0\.[0-9]+$" "$resolved"
answer=$(psql_in agent -h vectordb -p 5433 -c "select 1")
expect "agent: another port of vectordb is refused" "Connection refused" "$answer"
reject "agent: another port gets no answer" "^1$" "$answer"

answer=$(psql_in outsider -h vectordb -p 5432 -c "select 1")
expect "outsider: vectordb is not a name" "could not translate host name|Name or service not known|Temporary failure" "$answer"
link_address=$(printf '%s\n' "$resolved" | head -n 1)
answer=$(psql_in outsider -h "$link_address" -p 5432 -c "select 1")
expect "outsider: the link's address leads nowhere" "Connection refused" "$answer"
reject "outsider: no answer from vectordb" "^1$" "$answer"

probe=$(cat "$stack_dir/vectordb/probe.txt" 2> /dev/null)
expect "vectordb: agent is not a name" "agent: no such name" "$probe"
expect "vectordb: no link leads back to agent" "127.100.0.2:5432: refused" "$probe"
expect "vectordb: the outside is unreachable" "outside: unreachable" "$probe"
[ -d "$stack_dir/agent" ] && [ -d "$stack_dir/vectordb/pgdata" ] && [ ! -e "$stack_dir/agent/pgdata" ] &&
  pass "each sandbox has its own workspace" || fail "workspaces" "$(ls -R "$stack_dir" | head)"

connects=$(audit_events link.connect)
expect "link.connect names both sandboxes" "\"from\":\"$STACK\.agent\".*\"to\":\"$STACK\.vectordb\"|\"to\":\"$STACK\.vectordb\".*\"from\":\"$STACK\.agent\"" "$connects"
expect "link.connect is allowed" "\"decision\":\"allow\"" "$connects"
expect "link.connect names the process (psql)" "\"exe\":\"[^\"]*/psql\"" "$connects"
accepts=$(audit_events link.accept)
expect "link.accept on vectordb's side names both" "\"from\":\"$STACK\.agent\"" "$accepts"
expect "link.accept checked the peer" "\"peer\":\\{[^}]*\"uid\"" "$accepts"
closes=$(audit_events link.close)
expect "link.close counts the bytes" "\"bytes_in\":[1-9]" "$closes"
expect "the DNS answer is audited as a link" "\"link\":true" "$(audit_events egress.decision)"
expect "sandbox.start lists agent's link" "\"links\":\\{\"out\":\\[\\{\"name\":\"vectordb\",\"port\":5432,\"to\":\"$STACK\\.vectordb\"" "$(audit_events sandbox.start)"
socket_path="$control_dir/$STACK.vectordb.link-from.$STACK.agent.5432"
mode=$(stat -c %a "$socket_path" 2> /dev/null)
[ "$mode" = 600 ] && pass "the link's host socket is 0600" || fail "link socket mode: '$mode' ($socket_path)"
new_listeners=$(comm -13 <(printf '%s\n' "$listeners_before") <(host_listeners))
[ -z "$new_listeners" ] && pass "no new TCP listener on the host" || fail "new host listeners" "$new_listeners"

up_fails "a second up is refused" 1 -f stack.yaml
expect "a second up says why" "is running already: airlock down -f stack.yaml first" "$output"

as_user "$AIRLOCK" stop --grace 2s "$STACK.vectordb" > /dev/null 2>&1
answer=$(psql_in agent -h vectordb -p 5432 -c "select 1")
reject "agent: vectordb stopped, nothing answers" "^1$" "$answer"
expect "agent: the failed crossing is audited" "\"decision\":\"error\".*is not running|is not running.*\"decision\":\"error\"" "$(audit_events link.connect)"
[ ! -e "$socket_path" ] && pass "vectordb's link socket is gone with it" || fail "link socket left: $socket_path"

output=$(cd "$stack_dir" && as_user "$AIRLOCK" down -f stack.yaml 2>&1)
status=$?
[ $status -eq 0 ] && pass "down stops the rest" || fail "down exits $status" "$output"
expect "down stops agent before what it links to" "^$STACK\.agent$" "$output"
reject "ps lists nothing of the stack" "^$STACK\." "$(running)"

# Bad stack files: one line with FILE:LINE:COL, exit 2, nothing started.
write missing.yaml << EOF_
version: 1
name: ${STACK}m
sandboxes:
  agent:
    policy: agent.yaml
    links: [vectordb:5432]
EOF_
up_fails "a link to a missing sandbox exits 2" 2 -f missing.yaml
expect "it says where" "^missing\.yaml:6:13: link to 'vectordb', which is not a sandbox of this stack$" "$output"
write cycle.yaml << EOF_
version: 1
name: ${STACK}c
sandboxes:
  a:
    policy: closed.yaml
    links: [b:80]
  b:
    policy: closed.yaml
    links: [a:80]
EOF_
up_fails "a cycle exits 2" 2 -f cycle.yaml
expect "it names the cycle" "^cycle\.yaml:9:13: links form a cycle: a -> b -> a" "$output"
reject "nothing of them runs" "^${STACK}[mc]\." "$(running)"

# A linked-to sandbox that never listens: up gives up, says why, and stops what it started.
write deaf.yaml << EOF_
version: 1
name: ${STACK}d
sandboxes:
  client:
    policy: closed.yaml
    links: [server:7000]
  server:
    policy: closed.yaml
    command: [sleep, "60"]
EOF_
up_fails "a target that never listens fails up" 1 --wait 2s -f deaf.yaml
expect "it says which port" "${STACK}d\.server does not listen on 127\.0\.0\.1:7000 after 2000 ms" "$output"
reject "nothing is left half-up" "^${STACK}d\." "$(running)"

echo "link ($MODE): $passed passed, $failed failed"
[ $failed -eq 0 ]
