#!/usr/bin/env bash
# The bypass tests' world, all on this machine: an origin netns behind a veth pair, dnsmasq and a
# rebinding DNS server on the host's loopback, a host-loopback echo service.
#   world.sh start    idempotent; a failed start cleans up after itself
#   world.sh stop     kills only what start recorded, removes the netns and the state
#   world.sh status   exit 0 when everything answers
# Names and addresses are this test's own (others use others): netns airlock-bypass-origin, veth
# alb-host/alb-peer, 198.51.100.1/24 (host) and .10 + .20 (origin), 127.0.0.1:5353 (dnsmasq),
# :5354 (rebinding DNS), :5432 (echo), :5433 (a decoy no rule reaches).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${AIRLOCK_BYPASS_STATE:-/tmp/airlock-bypass-world}
NETNS=airlock-bypass-origin
PY=/usr/bin/python3
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# name -> address, as dnsmasq answers them; internal-* sit under the *.cdn.example.test wildcard.
RECORDS=(
  api.example.test=198.51.100.10 other.example.test=198.51.100.10
  a.cdn.example.test=198.51.100.10 blocked.cdn.example.test=198.51.100.10
  cdn.example.test=198.51.100.10 evilcdn.example.test=198.51.100.10
  cdn.example.test.evil.test=198.51.100.10
  internal-lo.cdn.example.test=127.0.0.1 internal-10.cdn.example.test=10.1.2.3
  internal-172.cdn.example.test=172.16.0.1 internal-192.cdn.example.test=192.168.1.1
  internal-meta.cdn.example.test=169.254.169.254 internal-cgnat.cdn.example.test=100.64.0.1
  internal-v6lo.cdn.example.test=::1 internal-ula.cdn.example.test=fd00::1
  internal-ll.cdn.example.test=fe80::1 internal-mapped.cdn.example.test=::ffff:127.0.0.1
  internal-nat64.cdn.example.test=64:ff9b::a01:203 internal-6to4.cdn.example.test=2002:a9fe:a9fe::1
  # tests/observe/world.sh serves a static npm registry and a PEP 503 index there (its own server)
  registry.example.test=198.51.100.30 pypi.example.test=198.51.100.30
)

say() { echo "world: $*" >&2; }

running() { # a zombie (exited, not yet reaped by whoever adopted it) is not running
  kill -0 "$1" 2> /dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2> /dev/null)" != Z ]
}
# ours: the recorded pid runs and its command line names this world's state directory (every
# service gets it), so a recycled pid is never mistaken for one of them
alive() {
  [ -f "$STATE/$1.pid" ] || return 1
  local pid
  pid=$(cat "$STATE/$1.pid")
  running "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -qF "$STATE"
}

status() {
  ip netns list 2> /dev/null | grep -qw "$NETNS" || return 1
  for service in origin dnsmasq rebind echo decoy; do alive "$service" || return 1; done
  timeout 5 curl -sf --noproxy '*' --cacert "$STATE/ca.crt" \
    --resolve api.example.test:443:198.51.100.10 https://api.example.test/ready -o /dev/null || return 1
  timeout 5 curl -sf --noproxy '*' http://198.51.100.20:8080/ready -o /dev/null || return 1
  [ "$(timeout 5 dig +short +tries=1 +time=2 @127.0.0.1 -p 5353 api.example.test A)" = 198.51.100.10 ] || return 1
  timeout 5 dig +tries=1 +time=2 @127.0.0.1 -p 5354 rebind.example.test A > /dev/null || return 1
  timeout 5 "$PY" -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2); s.sendto(b"ready",("198.51.100.10",443)); assert s.recv(16)==b"udp-echo"' || return 1
  for port in 5432 5433; do
    timeout 5 "$PY" -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),2); s.sendall(b"x"); assert s.recv(8)==b"echo:x"' "$port" || return 1
  done
}

stop() {
  for service in origin dnsmasq rebind echo decoy; do
    if alive "$service"; then
      local pid
      pid=$(cat "$STATE/$service.pid")
      kill "$pid" 2> /dev/null
      for _ in 1 2 3 4 5 6 7 8 9 10; do running "$pid" || break; sleep 0.1; done
      running "$pid" && kill -9 "$pid" 2> /dev/null
    fi
  done
  ip netns list 2> /dev/null | grep -qw "$NETNS" && ip netns del "$NETNS"
  ip link show alb-host > /dev/null 2>&1 && ip link del alb-host
  case "$STATE" in /tmp/airlock-bypass-*) rm -rf "$STATE" ;; esac
  return 0
}

make_ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$STATE/ca.key" -out "$STATE/ca.crt" -days 30 \
    -subj "/CN=airlock bypass test CA" > /dev/null 2>&1 || return 1
  openssl req -newkey rsa:2048 -nodes -keyout "$STATE/server.key" -out "$STATE/server.csr" \
    -subj "/CN=api.example.test" > /dev/null 2>&1 || return 1
  printf '%s\n' "subjectAltName=DNS:api.example.test,DNS:*.cdn.example.test,DNS:other.example.test,DNS:rebind.example.test" \
    "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
    > "$STATE/server.ext"
  openssl x509 -req -in "$STATE/server.csr" -CA "$STATE/ca.crt" -CAkey "$STATE/ca.key" \
    -CAcreateserial -out "$STATE/server.crt" -days 30 -extfile "$STATE/server.ext" > /dev/null 2>&1
}

make_repo() {
  local work="$STATE/repo-work"
  mkdir -p "$work" "$STATE/docroot"
  git -C "$work" init -q -b main &&
    echo "hello from the bypass origin" > "$work/README" &&
    git -C "$work" add README &&
    git -C "$work" -c user.name=test -c user.email=test@example.test commit -qm "first" &&
    git clone -q --bare "$work" "$STATE/docroot/repo.git" &&
    git -C "$STATE/docroot/repo.git" update-server-info
}

# Test traffic must stay on this machine: refuse to start where 198.51.100.0/24 is already
# reachable through another interface (it would then leave through it, not reach our origin).
test_range_is_free() {
  if ip -4 route show to match 198.51.100.10 | grep -v '^default' | grep -qv 'dev alb-host'; then
    echo "world.sh: 198.51.100.0/24 is already routed here ($(ip -4 route show to match 198.51.100.10 | grep -v '^default' | head -1)); refusing to use it for the test origin" >&2
    return 1
  fi
}

make_netns() {
  test_range_is_free &&
  ip netns add "$NETNS" &&
    ip link add alb-host type veth peer name alb-peer &&
    ip link set alb-peer netns "$NETNS" &&
    ip addr add 198.51.100.1/24 dev alb-host &&
    ip link set alb-host up &&
    ip -n "$NETNS" addr add 198.51.100.10/24 dev alb-peer &&
    ip -n "$NETNS" addr add 198.51.100.20/24 dev alb-peer &&
    ip -n "$NETNS" link set alb-peer up &&
    ip -n "$NETNS" link set lo up
}

spawn() { # spawn NAME COMMAND...: in the background, own session, pid recorded
  local name=$1
  shift
  setsid "$@" >> "$STATE/$name.out" 2>&1 < /dev/null 9>&- &
  echo $! > "$STATE/$name.pid"
}

start() {
  if status; then return 0; fi
  stop
  mkdir -p "$STATE" && chmod 0755 "$STATE"
  make_ca || { say "cannot make the test CA"; return 1; }
  chmod 0644 "$STATE/ca.crt"
  make_repo || { say "cannot make the git repository"; return 1; }
  make_netns || { say "cannot make netns $NETNS"; return 1; }
  spawn origin ip netns exec "$NETNS" "$PY" "$HERE/origin_server.py" "$STATE"
  local records=()
  for record in "${RECORDS[@]}"; do records+=("--host-record=${record%%=*},${record#*=}"); done
  : > "$STATE/dnsmasq.log"
  spawn dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --group=root \
    --port=5353 --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
    --log-queries --log-facility="$STATE/dnsmasq.log" --local=/example.test/ \
    --pid-file="$STATE/dnsmasq.real.pid" "${records[@]}"
  spawn rebind "$PY" "$HERE/rebind_dns.py" "$STATE"
  spawn echo "$PY" "$HERE/echo_server.py" "$STATE" 5432
  # a decoy on the host's 127.0.0.1:5433: no rule carries that port, so it must never hear a thing
  spawn decoy "$PY" "$HERE/echo_server.py" "$STATE" 5433
  for _ in $(seq 1 50); do
    if status; then
      self_check && return 0
      return 1
    fi
    sleep 0.2
  done
  say "services did not come up; logs:"
  tail -n 5 "$STATE"/*.out >&2
  return 1
}

# The world answers what the tests rely on from outside the sandbox, so a check that passes
# inside cannot pass only because the world was broken.
self_check() {
  local record name address got type
  for record in "${RECORDS[@]}"; do
    name=${record%%=*} address=${record#*=}
    type=A
    case "$address" in *:*) type=AAAA ;; esac
    got=$(timeout 5 dig +short +tries=1 @127.0.0.1 -p 5353 "$name" "$type")
    if [ "$got" != "$address" ] && [ "$(printf '%s' "$got" | "$PY" -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.stdin.read().strip()))' 2> /dev/null)" != "$(printf '%s' "$address" | "$PY" -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.stdin.read().strip()))')" ]; then
      say "dnsmasq answers $name $type with '$got', expected $address"
      return 1
    fi
  done
  grep -q "query\[A\] api.example.test" "$STATE/dnsmasq.log" || { say "dnsmasq does not log queries"; return 1; }
  GIT_SSL_CAINFO="$STATE/ca.crt" timeout 10 git -c http.proxy= clone -q \
    --config "http.curloptResolve=api.example.test:443:198.51.100.10" \
    https://api.example.test/repo.git "$STATE/clone-check" > /dev/null 2>&1 &&
    [ -f "$STATE/clone-check/README" ] || { say "the git repository is not served over https"; return 1; }
  rm -rf "$STATE/clone-check"
  return 0
}

exec 9> /tmp/airlock-bypass-world.lock
flock 9
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
