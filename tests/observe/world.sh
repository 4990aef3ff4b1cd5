#!/usr/bin/env bash
# The observe tests' world: tests/bypass/world.sh's (netns airlock-bypass-origin, the test CA,
# dnsmasq on 127.0.0.1:5353, the HTTPS origin with a git repository at
# https://api.example.test/repo.git), plus a static package server of our own in that netns:
# an npm registry (registry.example.test) and a PEP 503 index (pypi.example.test), both on
# 198.51.100.30:443 with a certificate from the bypass world's CA.
#   world.sh start    idempotent; starts the bypass world first when it is not running (and then
#                     stops it again at stop); a failed start cleans up after itself
#   world.sh stop     kills only what start recorded, removes the address and the state
#   world.sh status   exit 0 when everything answers
# State and logs: /tmp/airlock-observe-world (registry.log: one line per request).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BYPASS_WORLD="$HERE/../bypass/world.sh"
BYPASS_STATE=${AIRLOCK_BYPASS_STATE:-/tmp/airlock-bypass-world}
STATE=${AIRLOCK_OBSERVE_STATE:-/tmp/airlock-observe-world}
NETNS=airlock-bypass-origin
ADDRESS=198.51.100.30
PY=/usr/bin/python3
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { echo "observe world: $*" >&2; }

running() { kill -0 "$1" 2> /dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2> /dev/null)" != Z ]; }
# ours: the recorded pid runs and its command line names our state directory
alive() {
  [ -f "$STATE/registry.pid" ] || return 1
  local pid
  pid=$(cat "$STATE/registry.pid")
  running "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -qF "$STATE"
}

fetch() { # fetch HOST PATH: from outside, straight to the package server
  timeout 5 curl -sf --noproxy '*' --cacert "$BYPASS_STATE/ca.crt" --resolve "$1:443:$ADDRESS" \
    "https://$1$2" -o /dev/null
}

# the names resolve where the sandbox's resolver asks (dnsmasq's records are the bypass world's)
names_resolve() {
  local name
  for name in registry.example.test pypi.example.test; do
    [ "$(timeout 5 dig +short +tries=1 +time=2 @127.0.0.1 -p 5353 "$name" A)" = "$ADDRESS" ] || return 1
  done
}

status() {
  "$BYPASS_WORLD" status 8>&- || return 1
  alive || return 1
  fetch registry.example.test /tiny-pkg || return 1
  fetch registry.example.test /tiny-pkg/-/tiny-pkg-1.0.0.tgz || return 1
  fetch pypi.example.test /simple/tiny-pkg/ || return 1
  fetch pypi.example.test /packages/tiny_pkg-1.0.0-py3-none-any.whl || return 1
  names_resolve
}

stop() {
  if alive; then
    local pid
    pid=$(cat "$STATE/registry.pid")
    kill "$pid" 2> /dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do running "$pid" || break; sleep 0.1; done
    running "$pid" && kill -9 "$pid" 2> /dev/null
  fi
  ip -n "$NETNS" addr del "$ADDRESS/24" dev alb-peer 2> /dev/null
  [ -f "$STATE/owns-bypass-world" ] && "$BYPASS_WORLD" stop 8>&-
  case "$STATE" in /tmp/airlock-observe-*) rm -rf "$STATE" ;; esac
  return 0
}

make_certificate() { # from the bypass world's CA, so the tests trust one ca.crt
  openssl req -newkey rsa:2048 -nodes -keyout "$STATE/server.key" -out "$STATE/server.csr" \
    -subj "/CN=registry.example.test" > /dev/null 2>&1 || return 1
  printf '%s\n' "subjectAltName=DNS:registry.example.test,DNS:pypi.example.test" \
    "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
    > "$STATE/server.ext"
  openssl x509 -req -in "$STATE/server.csr" -CA "$BYPASS_STATE/ca.crt" -CAkey "$BYPASS_STATE/ca.key" \
    -CAcreateserial -CAserial "$STATE/ca.srl" -out "$STATE/server.crt" -days 30 \
    -extfile "$STATE/server.ext" > /dev/null 2>&1
}

start() {
  if status; then return 0; fi
  stop
  mkdir -p "$STATE" && chmod 0755 "$STATE"
  if "$BYPASS_WORLD" status 8>&- && ! names_resolve; then
    # started by a world.sh from before it listed our names: its dnsmasq cannot learn them
    say "the running bypass world does not know registry.example.test; restarting it"
    "$BYPASS_WORLD" stop 8>&-
  fi
  if ! "$BYPASS_WORLD" status 8>&-; then
    "$BYPASS_WORLD" start 8>&- || { say "cannot start tests/bypass/world.sh"; return 1; }
    touch "$STATE/owns-bypass-world"
  fi
  make_certificate || { say "cannot make the package server's certificate"; return 1; }
  "$PY" "$HERE/make_packages.py" "$STATE" || { say "cannot build the packages"; return 1; }
  ip -n "$NETNS" addr add "$ADDRESS/24" dev alb-peer || { say "cannot add $ADDRESS in $NETNS"; return 1; }
  : > "$STATE/registry.log"
  setsid ip netns exec "$NETNS" "$PY" "$HERE/registry_server.py" "$STATE" "$ADDRESS" \
    >> "$STATE/registry.out" 2>&1 < /dev/null 8>&- &
  echo $! > "$STATE/registry.pid"
  for _ in $(seq 1 50); do
    status && return 0
    sleep 0.2
  done
  say "the package server did not come up:"
  tail -n 5 "$STATE/registry.out" >&2
  return 1
}

exec 8> /tmp/airlock-observe-world.lock
flock 8
case "${1:-}" in
  start)
    if ! start; then
      say "start failed; cleaning up"
      stop
      exit 1
    fi
    ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: world.sh start|stop|status" >&2
    exit 2
    ;;
esac
