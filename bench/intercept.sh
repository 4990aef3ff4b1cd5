#!/usr/bin/env bash
# TLS interception cost: airlock's credential-substituting interception beside a plain CONNECT
# tunnel through airlock and beside mitmproxy doing the same header rewrite, measured side by
# side in one run on this machine (compare the ratios; the machine is shared). As root.
#
#   bench/intercept.sh [--quick] [path/to/airlock]   (default: <repo>/build/airlock)
#
# Rows: direct (no proxy); airlock tunnel (no credentials: the TLS goes through untouched) via
# CONNECT on 127.0.0.1:3128 and transparently; airlock interception (a `credentials:` entry bound
# to the origin's name; the client sends the placeholder in x-api-key and trusts the run CA
# through SSL_CERT_FILE) via CONNECT and transparently; mitmproxy (explicit proxy, an addon
# replacing the placeholder in request headers). Columns: requests/s and per-request p50/p99 on
# one keep-alive connection (BENCH_REQUESTS sequential GETs; BENCH_MITM_REQUESTS for mitmproxy),
# time to the first event of a chunked text/event-stream response (BENCH_STREAMS), and a new
# connection's connect + TLS handshake + first request (BENCH_HANDSHAKES, after a first one that
# makes the leaf). The HTTPS origin (bench/intercept/tls_origin.c) runs in the network namespace
# airlock-bench-tls at 192.0.2.202 and answers DNS for the proxies' resolvers.
# --quick  a smoke test: 2000 requests (200 for mitmproxy), 20 streams, 30 handshakes, one round.
# BENCH_ROUNDS (each measurement runs once per round for every row, rows in rotated order; the
# median is shown) and the counts above override the sizes. BENCH_QUICKACK=1 makes the client ACK
# every segment at once (TCP_QUICKACK; a diagnostic: what a proxy's Nagle waits cost the default
# figures). Prints markdown tables on stdout; progress goes to stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
here="$root/bench/intercept"
quick=0
airlock=""
for argument in "$@"; do
  case "$argument" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "intercept.sh: unknown option $argument (try --help)" >&2; exit 2 ;;
    *) [[ -z "$airlock" ]] || { echo "intercept.sh: one airlock path only" >&2; exit 2; }
       airlock="$argument" ;;
  esac
done
if (( quick )); then
  requests="${BENCH_REQUESTS:-2000}"; mitm_requests="${BENCH_MITM_REQUESTS:-200}"
  streams="${BENCH_STREAMS:-20}"; handshakes="${BENCH_HANDSHAKES:-30}"; rounds="${BENCH_ROUNDS:-1}"
else
  requests="${BENCH_REQUESTS:-20000}"; mitm_requests="${BENCH_MITM_REQUESTS:-2000}"
  streams="${BENCH_STREAMS:-150}"; handshakes="${BENCH_HANDSHAKES:-300}"; rounds="${BENCH_ROUNDS:-3}"
fi
quickack="${BENCH_QUICKACK:-0}"
stream_events=3 stream_gap_ms=10   # each stream: the first event at once, then 2 more 10 ms apart
airlock="${airlock:-$root/build/airlock}"
if [[ ! -x "$airlock" ]]; then
  echo "intercept.sh: no airlock binary at $airlock; build it first: ninja -C $root/build airlock" >&2
  exit 2
fi
airlock="$(realpath "$airlock")"
if [[ $(id -u) -ne 0 ]]; then
  echo "intercept.sh: run as root (it creates a network namespace and a veth pair)" >&2
  exit 2
fi

# --- the only names and addresses this script touches ----------------------------------------
# Not bench/egress.sh's (airlock-bench-origin, 203.0.113.0/24): both scripts can run at once.
# A /30 of a documentation range that airlock does not classify as internal.
netns="airlock-bench-tls"
host_if="alt-host"
peer_if="alt-peer"
host_ip=192.0.2.201
origin_ip=192.0.2.202
origin_name="api.bench.test"
https_port=443     # interception applies to a bound host on 443
dns_port=53
mitm_port=18443
target="$origin_name:$https_port"

# --- tools -----------------------------------------------------------------------------------
missing=()
command -v mitmdump >/dev/null 2>&1 || missing+=(mitmproxy)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[[ -e /usr/include/openssl/ssl.h ]] || missing+=(libssl-dev)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
if (( ${#missing[@]} )); then
  if command -v apt-get >/dev/null 2>&1; then
    echo "intercept.sh: installing ${missing[*]}" >&2
    apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
      { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
  else
    echo "intercept.sh: missing ${missing[*]}; install them" >&2
    exit 2
  fi
fi
mitm_version="$(mitmdump --version 2>/dev/null | awk '$1 == "Mitmproxy:" { print $2 }')"

# Refuse to run over someone else's run (or what a killed run left: say how to remove it).
if ip netns list | grep -qw "$netns"; then
  if [[ -z "$(ip netns pids "$netns" 2>/dev/null)" ]]; then
    ip netns del "$netns"   # left by a run killed with SIGKILL: nothing lives in it
  else
    echo "intercept.sh: netns $netns is in use (another intercept.sh run?); remove it with: ip netns del $netns" >&2
    exit 2
  fi
fi
ip link show "$host_if" >/dev/null 2>&1 && ip link del "$host_if"
if (exec 3<>"/dev/tcp/127.0.0.1/$mitm_port") 2>/dev/null; then
  echo "intercept.sh: 127.0.0.1:$mitm_port is already taken; stop what listens there" >&2
  exit 2
fi

# --- scratch space and clean-up (on any exit) ------------------------------------------------
tmp="$(mktemp -d -t airlock-bench-intercept.XXXXXX)"
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  ip netns del "$netns" 2>/dev/null || true     # takes the veth pair with it
  ip link del "$host_if" 2>/dev/null || true
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 0755 "$tmp"
workspace="$tmp/workspace"            # airlock's writable workspace: what the sandbox runs
mkdir "$workspace"
chmod 0777 "$workspace"
# A copy: others rebuild build/ while this runs, and a binary being relinked cannot be executed.
mkdir -m 0755 "$tmp/bin"
install -m 0755 "$airlock" "$tmp/bin/airlock"
airlock_built="$airlock"
airlock="$tmp/bin/airlock"

say() { echo "intercept.sh: $*" >&2; }
phase_name="" phase_start=$SECONDS
phase() {  # prints how long the previous phase took, then starts the next
  [[ -z "$phase_name" ]] || say "  ($phase_name: $(( SECONDS - phase_start )) s)"
  phase_name="${1%%:*}" phase_start=$SECONDS
  say "$1"
}
started=$SECONDS

# --- programs, keys and certificates ---------------------------------------------------------
cc -O2 -o "$tmp/bin/tls_origin" "$here/tls_origin.c" -lssl -lcrypto -lpthread
cc -O2 -o "$workspace/tls_client" "$here/tls_client.c" -lssl -lcrypto
client="./tls_client"
(( quickack )) && client_options=(--quickack 1) || client_options=()
# The real key, and mitmproxy's placeholder (same length and prefix, as airlock makes its own).
real_key="sk-bench-$(openssl rand -hex 20)"
mitm_placeholder="sk-bench-$(openssl rand -hex 20)"
# The bench CA and the origin's leaf (P-256), valid two days.
pki="$tmp/pki"
mkdir -m 0755 "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$pki/ca.key" -out "$pki/ca.pem" -subj "/CN=airlock intercept bench CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$origin_name" \
  -keyout "$pki/origin.key" -out "$pki/origin.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
  "$origin_name" >"$pki/origin.ext"
openssl x509 -req -in "$pki/origin.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/origin.ext" -out "$pki/origin.pem" 2>/dev/null
chmod 0644 "$pki/ca.pem"
cp "$pki/ca.pem" "$workspace/bench-ca.pem"   # what the tunnel rows' client trusts

# --- the origin, in its own network namespace ------------------------------------------------
ip netns add "$netns"
ip link add "$host_if" type veth peer name "$peer_if"
ip link set "$peer_if" netns "$netns"
ip addr add "$host_ip/30" dev "$host_if"
ip link set "$host_if" up
ip -n "$netns" addr add "$origin_ip/30" dev "$peer_if"
ip -n "$netns" link set "$peer_if" up
ip -n "$netns" link set lo up
ip netns exec "$netns" "$tmp/bin/tls_origin" "$origin_ip" "$https_port" "$dns_port" \
  "$pki/origin.pem" "$pki/origin.key" "$real_key" >"$tmp/origin.log" 2>&1 &
pids+=($!)

wait_port() {  # host port seconds
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; do
    if (( SECONDS > deadline )); then say "nothing listens on $1:$2 after $3 s"; return 1; fi
    sleep 0.1
  done
}
wait_port "$origin_ip" "$https_port" 10 || { cat "$tmp/origin.log" >&2; exit 1; }

# --- mitmproxy -------------------------------------------------------------------------------
# It resolves with getaddrinfo: it runs in its own mount namespace where /etc/hosts names the
# origin (the host's /etc/hosts is not touched). Its CA is made in its own confdir on start.
mitm_dir="$tmp/mitm"
mkdir -m 0700 "$mitm_dir"
printf '127.0.0.1 localhost\n%s %s\n' "$origin_ip" "$origin_name" >"$mitm_dir/hosts"
BENCH_PLACEHOLDER="$mitm_placeholder" BENCH_REAL_KEY="$real_key" \
  unshare --mount --propagation private sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh \
  "$mitm_dir/hosts" mitmdump -q --listen-host 127.0.0.1 --listen-port "$mitm_port" \
  --set confdir="$mitm_dir" --set ssl_verify_upstream_trusted_ca="$pki/ca.pem" \
  -s "$here/mitm_addon.py" >"$tmp/mitm.log" 2>&1 &
pids+=($!)
wait_port 127.0.0.1 "$mitm_port" 60 || { tail "$tmp/mitm.log" >&2; exit 1; }
cp "$mitm_dir/mitmproxy-ca-cert.pem" "$workspace/mitm-ca.pem"

# --- airlock's policies ----------------------------------------------------------------------
# tunnel.yaml: the origin's name allowed, nothing intercepted. intercept.yaml: the same, plus a
# credential bound to the name, and the bench CA for the proxy's own TLS to the origin. Both
# resolve through the origin's DNS responder.
cat >"$workspace/tunnel.yaml" <<EOF
version: 1
name: bench-intercept-tunnel
network:
  mode: allowlist
  allow: ["$target"]
  dns_upstream: $origin_ip:$dns_port
EOF
cat >"$workspace/intercept.yaml" <<EOF
version: 1
name: bench-intercept
network:
  mode: allowlist
  allow: ["$target"]
  dns_upstream: $origin_ip:$dns_port
  upstream_ca: $pki/ca.pem
credentials:
  - name: BENCH_API_KEY
    from: env:BENCH_API_KEY
    hosts: [$origin_name]
EOF
# Every measured command runs from the workspace, under a time limit (a hung path is a failure).
limit=300
outside() { (cd "$workspace" && timeout -k 5 "$limit" "$@"); }
in_tunnel() { outside "$airlock" run --policy tunnel.yaml -- "$@"; }
# The real key reaches the supervisor only (from: env:BENCH_API_KEY); the sandbox gets a placeholder.
in_intercept() { BENCH_API_KEY="$real_key" outside "$airlock" run --policy intercept.yaml "${extra[@]}" -- "$@"; }
extra=()

# --- checks before any timing ----------------------------------------------------------------
phase "checks: every path answers 200 with the real key at the origin"
check_failures=()
check() {  # description command...
  local out
  if ! out="$("${@:2}" 2>&1)"; then
    check_failures+=("$1")
    say "check failed: $1"
    sed 's/^/    /' <<<"$out" | tail -n 8 >&2
  fi
}
key_args=(--key "$real_key")
check "direct" outside "$client" rps 10 --warmup 0 --target "$target" --connect "$origin_ip:$https_port" --ca bench-ca.pem "${key_args[@]}"
check "airlock tunnel, CONNECT" in_tunnel "$client" rps 10 --warmup 0 --target "$target" --proxy 127.0.0.1:3128 --ca bench-ca.pem "${key_args[@]}"
check "airlock tunnel, transparent" in_tunnel "$client" rps 10 --warmup 0 --target "$target" --ca bench-ca.pem "${key_args[@]}"
check "mitmproxy" outside "$client" rps 10 --warmup 0 --target "$target" --proxy "127.0.0.1:$mitm_port" --ca mitm-ca.pem --key "$mitm_placeholder"
# Interception: what the sandbox sees, and an audited run (10 requests -> 10 credential.use).
placeholder_seen=""
intercept_audit=""
if out="$(in_intercept sh -c 'printf "%s\n" "$BENCH_API_KEY"; printf "%s\n" "${SSL_CERT_FILE:-unset}"' 2>"$tmp/intercept-start.err")"; then
  placeholder_seen="$(sed -n 1p <<<"$out")"
  cert_file_seen="$(sed -n 2p <<<"$out")"
  if [[ -z "$placeholder_seen" || "$placeholder_seen" == "$real_key" ]]; then
    check_failures+=("interception: the sandbox's BENCH_API_KEY is '${placeholder_seen:-empty}', not a placeholder")
    say "${check_failures[-1]}"
  fi
  say "inside the interception sandbox: BENCH_API_KEY is a ${#placeholder_seen}-character placeholder (${placeholder_seen:0:9}...), SSL_CERT_FILE=$cert_file_seen"
else
  check_failures+=("interception: the sandbox did not start")
  say "interception sandbox did not start:"; sed 's/^/    /' "$tmp/intercept-start.err" | tail -n 8 >&2
fi
extra=(--audit "$tmp/audit.jsonl")
check "airlock interception, CONNECT (audited)" in_intercept "$client" rps 10 --warmup 0 --target "$target" --proxy 127.0.0.1:3128 --key-env BENCH_API_KEY
extra=()
if [[ -e "$tmp/audit.jsonl" ]]; then
  intercept_audit="$(grep -c '"credential.use"' "$tmp/audit.jsonl" || true) credential.use events for 10 requests"
  say "audit: $intercept_audit"
fi
check "airlock interception, transparent" in_intercept "$client" rps 10 --warmup 0 --target "$target" --key-env BENCH_API_KEY

# --- measurement helpers ---------------------------------------------------------------------
declare -A result    # "metric|row" -> median; "metric|row|all" -> per-round values
record() {           # metric row value
  result["$1|$2|all"]="${result["$1|$2|all"]:+${result["$1|$2|all"]}, }$3"
}
median_of() {        # comma list (numbers or "error") -> median, or "error"
  tr ',' '\n' <<<"$1" | tr -d ' ' | { grep -E '^[0-9.]+$' || true; } | sort -g |
    awk '{ v[++n] = $1 } END { if (n == 0) print "error"; else if (n % 2) print v[(n + 1) / 2];
                              else printf "%.0f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
log_failure() {      # what output
  say "$1 failed"
  sed 's/^/    /' <<<"$2" | tail -n 8 >&2
}

rows=("direct" "tunnel CONNECT" "tunnel transparent" "intercept CONNECT" "intercept transparent" "mitmproxy")
run_client() {  # row client-arguments... -> the client's output (and its exit status)
  local row=$1; shift
  set -- "$@" "${client_options[@]}"
  case "$row" in
    direct) outside "$client" "$@" --target "$target" --connect "$origin_ip:$https_port" --ca bench-ca.pem "${key_args[@]}" ;;
    "tunnel CONNECT") in_tunnel "$client" "$@" --target "$target" --proxy 127.0.0.1:3128 --ca bench-ca.pem "${key_args[@]}" ;;
    "tunnel transparent") in_tunnel "$client" "$@" --target "$target" --ca bench-ca.pem "${key_args[@]}" ;;
    "intercept CONNECT") in_intercept "$client" "$@" --target "$target" --proxy 127.0.0.1:3128 --key-env BENCH_API_KEY ;;
    "intercept transparent") in_intercept "$client" "$@" --target "$target" --key-env BENCH_API_KEY ;;
    mitmproxy) outside "$client" "$@" --target "$target" --proxy "127.0.0.1:$mitm_port" --ca mitm-ca.pem --key "$mitm_placeholder" ;;
  esac
}
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$2"; }

run_rps() {
  local count=$requests out
  [[ "$1" == mitmproxy ]] && count=$mitm_requests
  local status=0
  out="$(run_client "$1" rps "$count" 2>&1)" || status=$?
  local rps; rps="$(field rps "$out")"
  if [[ -z "$rps" ]]; then log_failure "rps, $1 (exit status $status)" "$out"; record rps "$1" error; record p50 "$1" error; record p99 "$1" error; return; fi
  record rps "$1" "$rps"
  record p50 "$1" "$(field p50_us "$out")"
  record p99 "$1" "$(field p99_us "$out")"
}
run_ttfb() {
  local out status=0
  out="$(run_client "$1" ttfb "$streams" --stream "$stream_events,$stream_gap_ms" 2>&1)" || status=$?
  local p50; p50="$(field p50_us "$out")"
  if [[ -z "$p50" ]]; then log_failure "ttfb, $1 (exit status $status)" "$out"; record ttfb50 "$1" error; record ttfb99 "$1" error; return; fi
  record ttfb50 "$1" "$p50"
  record ttfb99 "$1" "$(field p99_us "$out")"
  record stream50 "$1" "$(field total_p50_us "$out")"
}
run_handshake() {
  local out status=0
  out="$(run_client "$1" handshake "$handshakes" 2>&1)" || status=$?
  local p50; p50="$(field p50_us "$out")"
  if [[ -z "$p50" ]]; then log_failure "handshake, $1 (exit status $status)" "$out"; record hs50 "$1" error; record hs99 "$1" error; return; fi
  record hs50 "$1" "$p50"
  record hs99 "$1" "$(field p99_us "$out")"
  record hsfirst "$1" "$(field first_us "$out")"
  record hsconnect "$1" "$(field connect_p50_us "$out")"
  record hstls "$1" "$(field tls_p50_us "$out")"
  record hsrequest "$1" "$(field request_p50_us "$out")"
}
run_rounds() {  # function, rows...
  local fn=$1; shift
  local list=("$@") n=$# r i
  for (( r = 0; r < rounds; r++ )); do
    for (( i = 0; i < n; i++ )); do "$fn" "${list[$(( (i + r) % n ))]}"; done
  done
}

# --- 1. requests/s and per-request latency on one keep-alive connection ----------------------
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
phase "keep-alive requests: $requests sequential GETs ($mitm_requests through mitmproxy), $rounds round(s) of ${#rows[@]} rows"
run_rounds run_rps "${rows[@]}"

# --- 2. time to the first event of a stream --------------------------------------------------
phase "streams: $streams GET /stream ($stream_events events, $stream_gap_ms ms apart) per row, $rounds round(s)"
run_rounds run_ttfb "${rows[@]}"

# --- 3. a new connection: connect + TLS handshake + first request ----------------------------
phase "new connections: 1 + $handshakes per row, $rounds round(s)"
run_rounds run_handshake "${rows[@]}"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report ----------------------------------------------------------------------------------
for key in "${!result[@]}"; do
  [[ "$key" == *"|all" ]] || continue
  result["${key%|all}"]="$(median_of "${result[$key]}")"
done
get() { echo "${result["$1|$2"]:-}"; }
cell() {  # metric row -> "median (r1, r2, r3)" or "—"
  local m; m="$(get "$1" "$2")"
  [[ -n "$m" ]] || { echo "—"; return; }
  if (( rounds > 1 )); then echo "$m (${result["$1|$2|all"]})"; else echo "$m"; fi
}
number() { [[ "$1" =~ ^[0-9.]+$ ]]; }
ratio() { if number "$1" && number "$2" && [[ "$2" != 0 ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; else echo "n/a"; fi; }
minus() { if number "$1" && number "$2"; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.0f", a - b }'; else echo "n/a"; fi; }
verdict() { [[ "$1" == 1 ]] && echo PASS || echo FAIL; }
ge() { if [[ "$1" =~ ^[+-]?[0-9.]+$ ]]; then awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b) ? 1 : 0 }'; else echo 0; fi; }
le() { if [[ "$1" =~ ^[+-]?[0-9.]+$ ]]; then awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 <= b) ? 1 : 0 }'; else echo 0; fi; }
label() {
  case "$1" in
    direct) echo "direct (no proxy)" ;;
    "tunnel CONNECT") echo "(a) airlock tunnel, CONNECT 127.0.0.1:3128" ;;
    "tunnel transparent") echo "(a) airlock tunnel, transparent" ;;
    "intercept CONNECT") echo "**(b) airlock interception, CONNECT 127.0.0.1:3128**" ;;
    "intercept transparent") echo "**(b) airlock interception, transparent**" ;;
    mitmproxy) echo "(c) mitmproxy $mitm_version, explicit proxy + addon" ;;
  esac
}

echo
echo "### airlock TLS interception beside a plain tunnel and mitmproxy"
echo
echo "$(nproc) CPUs, kernel $(uname -r), $(date -u +%Y-%m-%d), $airlock_built $("$airlock" --version 2>/dev/null | awk '{print $NF}'), mitmproxy $mitm_version, $(openssl version | awk '{print $1, $2}');"
echo "load average $load_before at the start, $load_after at the end. Origin: bench/intercept/tls_origin.c (OpenSSL, TLS 1.3, P-256 leaf of a bench CA, HTTP/1.1 keep-alive) in netns $netns at $origin_ip over a veth pair; it answers 401 unless x-api-key is the real key."
echo "Medians of $rounds round(s) (per-round values in brackets). req/s and p50/p99: $requests sequential \`GET /\` (\"ok\") on one keep-alive connection after 200 untimed ($mitm_requests through mitmproxy), from before the request is written to the response's last byte."
echo "TTFB: $streams sequential \`GET /stream\` on one connection (chunked text/event-stream, $stream_events events $stream_gap_ms ms apart), to the first event's first byte; the whole stream takes about $(( (stream_events - 1) * stream_gap_ms )) ms at the origin."
(( quickack )) && echo "**BENCH_QUICKACK=1: the client ACKs every segment at once (TCP_QUICKACK), so no path's Nagle algorithm waits for its delayed ACKs; a diagnostic, not what a client sees.**"
echo "New connection: TCP connect (+ CONNECT) + full TLS handshake (no resumption) + one \`GET /\`, $handshakes times after a first one (in its own column: through airlock's interception it makes the leaf)."
echo
echo "| path | req/s | p50 µs | p99 µs | TTFB p50 µs | TTFB p99 µs | new conn p50 µs | new conn p99 µs | first conn µs |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for row in "${rows[@]}"; do
  echo "| $(label "$row") | $(cell rps "$row") | $(cell p50 "$row") | $(cell p99 "$row") | $(cell ttfb50 "$row") | $(cell ttfb99 "$row") | $(cell hs50 "$row") | $(cell hs99 "$row") | $(cell hsfirst "$row") |"
done
echo
echo "New connection, medians of the per-round p50s by step (µs); whole stream p50 (µs):"
echo
echo "| path | connect (+ CONNECT) | TLS handshake | first request | whole stream |"
echo "|---|---:|---:|---:|---:|"
for row in "${rows[@]}"; do
  echo "| $(label "$row") | $(get hsconnect "$row") | $(get hstls "$row") | $(get hsrequest "$row") | $(get stream50 "$row") |"
done
if (( ${#check_failures[@]} )); then
  echo
  echo "Checks that failed before timing (their rows are errors): $(printf '%s; ' "${check_failures[@]}")"
fi
if [[ -n "$placeholder_seen" ]]; then
  echo
  echo "Interception rows: the sandbox's BENCH_API_KEY was a ${#placeholder_seen}-character placeholder (the real key: ${#real_key}); an audited run of 10 requests logged ${intercept_audit:-no audit file}."
fi

rps_ratio="$(ratio "$(get rps "intercept CONNECT")" "$(get rps mitmproxy)")"
rps_ratio_t="$(ratio "$(get rps "intercept transparent")" "$(get rps mitmproxy)")"
added_p50="$(minus "$(get p50 "intercept CONNECT")" "$(get p50 "tunnel CONNECT")")"
added_p50_t="$(minus "$(get p50 "intercept transparent")" "$(get p50 "tunnel transparent")")"
hs="$(get hs50 "intercept CONNECT")"
hs_t="$(get hs50 "intercept transparent")"
hs_added="$(minus "$hs" "$(get hs50 "tunnel CONNECT")")"
hs_added_t="$(minus "$hs_t" "$(get hs50 "tunnel transparent")")"
ttfb_added="$(minus "$(get ttfb50 "intercept CONNECT")" "$(get ttfb50 "tunnel CONNECT")")"
echo
echo "| target | measured | verdict |"
echo "|---|---|---|"
echo "| interception req/s ≥ 5× mitmproxy's (CONNECT) | $rps_ratio× | $(verdict "$(ge "$rps_ratio" 5)") |"
echo "| interception req/s ≥ 5× mitmproxy's (transparent) | $rps_ratio_t× | $(verdict "$(ge "$rps_ratio_t" 5)") |"
echo "| added p50 per request ≤ +1 ms over the plain tunnel (CONNECT) | $added_p50 µs | $(verdict "$(le "$added_p50" 1000)") |"
echo "| added p50 per request ≤ +1 ms over the plain tunnel (transparent) | $added_p50_t µs | $(verdict "$(le "$added_p50_t" 1000)") |"
echo "| new connection with a cached leaf ≤ 2 ms (CONNECT; tunnel: $(get hs50 "tunnel CONNECT") µs, added $hs_added µs) | ${hs:-n/a} µs | $(verdict "$(le "$hs" 2000)") |"
echo "| new connection with a cached leaf ≤ 2 ms (transparent; tunnel: $(get hs50 "tunnel transparent") µs, added $hs_added_t µs) | ${hs_t:-n/a} µs | $(verdict "$(le "$hs_t" 2000)") |"
echo "| (no target) TTFB added by interception, CONNECT | $ttfb_added µs | |"
(( quick )) && echo && echo "(--quick: $requests requests, $streams streams, $handshakes new connections, one round: a smoke test, not the targets' sizes)"
phase "done in $(( SECONDS - started )) s"
