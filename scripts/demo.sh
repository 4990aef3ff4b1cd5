#!/usr/bin/env bash
# The main job on the embedded default policy: work in the directory succeeds, the network
# does not exist, secrets and the rest of the system are out of reach.
set -uo pipefail
cd "$(dirname "$0")/.."
airlock="$PWD/build/airlock"
workspace=$(mktemp -d /tmp/airlock-demo.XXXXXX)
chmod 0755 "$workspace"
cd "$workspace"
echo "== airlock run on the default policy, in $workspace"
"$airlock" run --verbose --audit "$workspace/audit.jsonl" -- sh -c '
  echo "work in the directory:   $(echo hello > notes.txt && cat notes.txt)"
  echo "who am I:                $(id -un) (uid $(id -u))"
  echo "curl https://example.com: $(curl -sS -m 3 https://example.com 2>&1 | head -c 70)"
  echo "python connect 1.1.1.1:  $(python3 -c "import socket; socket.create_connection((\"1.1.1.1\", 443), 2)" 2>&1 | tail -1)"
  echo "write /etc:              $(touch /etc/airlock-demo 2>&1)"
  echo "read ~/.ssh:             $(ls ~/.ssh 2>&1)"
'
status=$?
echo "== exit status $status; notes.txt on the host: $(cat "$workspace/notes.txt")"
echo "== audit log ($workspace/audit.jsonl):"
cut -c1-160 "$workspace/audit.jsonl"
