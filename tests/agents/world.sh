#!/usr/bin/env bash
# The agent tests' world, all on this machine (its own, beside tests/bypass/world.sh's and
# bench/'s): an origin netns behind a veth pair with the provider API stand-ins and an mTLS KMS,
# and dnsmasq on the host's loopback that knows only the test names.
#   world.sh start    idempotent; a failed start cleans up after itself
#   world.sh stop     kills only what start recorded, removes the netns and the state
#   world.sh status   exit 0 when everything answers
# Names and addresses are this world's own: netns airlock-agents-origin, veth ala-host/ala-peer,
# 203.0.113.65/26 (host) and .70 (API stand-ins, 443 and 80) + .80 (KMS, 8443) in the netns.
# TEST-NET-3, which airlock does not class as internal; tests/bypass has 198.51.100.0/24,
# bench/egress.sh 203.0.113.0/24 (its origin .10 lies outside our more specific /26, so both can
# run at once), bench/intercept.sh 192.0.2.200/30; TEST-NET-1 is this machine's own eth0 network.
# 127.0.0.1:5363 (dnsmasq). State and logs: /tmp/airlock-agents-world (requests.jsonl, dnsmasq.log,
# kms.out), the test CA there as ca.crt.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${AIRLOCK_AGENTS_STATE:-/tmp/airlock-agents-world}
NETNS=airlock-agents-origin
PY=/usr/bin/python3
DNS_PORT=5363
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

API_NAMES=(api.anthropic.example.test api.openai.example.test generativelanguage.example.test other.example.test)
RECORDS=()
for name in "${API_NAMES[@]}"; do RECORDS+=("$name=203.0.113.70"); done
RECORDS+=(kms.example.test=203.0.113.80)

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
  for service in standin dnsmasq kms; do alive "$service" || return 1; done
  for name in "${API_NAMES[@]}"; do
    timeout 5 curl -sf --noproxy '*' --cacert "$STATE/ca.crt" --resolve "$name:443:203.0.113.70" \
      "https://$name/echo" -o /dev/null || return 1
  done
  timeout 5 curl -sf --noproxy '*' http://203.0.113.70/echo -H 'Host: other.example.test' -o /dev/null || return 1
  [ "$(timeout 5 dig +short +tries=1 +time=2 @127.0.0.1 -p "$DNS_PORT" api.anthropic.example.test A)" = 203.0.113.70 ] || return 1
  # the KMS answers only a client that shows a certificate from the test CA
  timeout 5 curl -sf --noproxy '*' --cacert "$STATE/ca.crt" --cert "$STATE/kms-client.crt" \
    --key "$STATE/kms-client.key" --resolve kms.example.test:8443:203.0.113.80 \
    https://kms.example.test:8443/ -o /dev/null || return 1
}

stop() {
  for service in standin dnsmasq kms; do
    if alive "$service"; then
      local pid
      pid=$(cat "$STATE/$service.pid")
      kill "$pid" 2> /dev/null
      for _ in 1 2 3 4 5 6 7 8 9 10; do running "$pid" || break; sleep 0.1; done
      running "$pid" && kill -9 "$pid" 2> /dev/null
    fi
  done
  ip netns list 2> /dev/null | grep -qw "$NETNS" && ip netns del "$NETNS"
  ip link show ala-host > /dev/null 2>&1 && ip link del ala-host
  case "$STATE" in /tmp/airlock-agents-*) rm -rf "$STATE" ;; esac
  return 0
}

# leaf NAME CN SANS EKU: a key and a certificate signed by the test CA
leaf() {
  openssl req -newkey rsa:2048 -nodes -keyout "$STATE/$1.key" -out "$STATE/$1.csr" -subj "/CN=$2" \
    > /dev/null 2>&1 || return 1
  {
    [ -n "$3" ] && echo "subjectAltName=$3"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=$4"
  } > "$STATE/$1.ext"
  openssl x509 -req -in "$STATE/$1.csr" -CA "$STATE/ca.crt" -CAkey "$STATE/ca.key" \
    -CAcreateserial -out "$STATE/$1.crt" -days 30 -extfile "$STATE/$1.ext" > /dev/null 2>&1
}

make_ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$STATE/ca.key" -out "$STATE/ca.crt" -days 30 \
    -subj "/CN=airlock agents test CA" > /dev/null 2>&1 || return 1
  local sans=""
  for name in "${API_NAMES[@]}"; do sans+="${sans:+,}DNS:$name"; done
  leaf server api.anthropic.example.test "$sans" serverAuth &&
    leaf kms kms.example.test DNS:kms.example.test serverAuth &&
    leaf kms-client "airlock agents test KMS client" "" clientAuth
}

# Test traffic must stay on this machine: refuse to start where 203.0.113.64/26 is already
# reachable through another interface (it would then leave through it, not reach our origin).
# A less specific route (bench/egress.sh's 203.0.113.0/24) is fine: our /26 wins over it.
test_range_is_free() {
  local route
  route=$(ip -4 route show | awk '$1 ~ /^203\.0\.113\./ && $0 !~ /dev ala-host/ {print}' |
    while read -r prefix rest; do
      case $prefix in */*) ;; *) prefix=$prefix/32 ;; esac
      "$PY" -c 'import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1],strict=False); sys.exit(0 if n.prefixlen>=26 and n.overlaps(ipaddress.ip_network("203.0.113.64/26")) else 1)' "$prefix" &&
        echo "$prefix $rest"
    done)
  if [ -n "$route" ]; then
    echo "world.sh: 203.0.113.64/26 is already routed here ($route); refusing to use it for the test origin" >&2
    return 1
  fi
}

make_netns() {
  test_range_is_free &&
    ip netns add "$NETNS" &&
    ip link add ala-host type veth peer name ala-peer &&
    ip link set ala-peer netns "$NETNS" &&
    ip addr add 203.0.113.65/26 dev ala-host &&
    ip link set ala-host up &&
    ip -n "$NETNS" addr add 203.0.113.70/26 dev ala-peer &&
    ip -n "$NETNS" addr add 203.0.113.80/26 dev ala-peer &&
    ip -n "$NETNS" link set ala-peer up &&
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
  mkdir -p "$STATE/keys" && chmod 0755 "$STATE" "$STATE/keys"
  make_ca || { say "cannot make the test CA"; return 1; }
  chmod 0644 "$STATE/ca.crt"
  make_netns || { say "cannot make netns $NETNS"; return 1; }
  : > "$STATE/requests.jsonl"
  chmod 0644 "$STATE/requests.jsonl"
  spawn standin ip netns exec "$NETNS" "$PY" "$HERE/standin_server.py" "$STATE"
  # the mTLS KMS: answers (-www: a status page) only a client certificate from the test CA
  spawn kms ip netns exec "$NETNS" openssl s_server -accept 203.0.113.80:8443 -naccept 1000000 \
    -cert "$STATE/kms.crt" -key "$STATE/kms.key" -CAfile "$STATE/ca.crt" -Verify 1 -www
  local records=()
  for record in "${RECORDS[@]}"; do records+=("--host-record=${record%%=*},${record#*=}"); done
  : > "$STATE/dnsmasq.log"
  spawn dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --group=root \
    --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
    --log-queries --log-facility="$STATE/dnsmasq.log" --local=/example.test/ \
    --pid-file="$STATE/dnsmasq.real.pid" "${records[@]}"
  for _ in $(seq 1 50); do
    status && return 0
    sleep 0.2
  done
  say "services did not come up; logs:"
  tail -n 5 "$STATE"/*.out >&2
  return 1
}

exec 9> /tmp/airlock-agents-world.lock
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
