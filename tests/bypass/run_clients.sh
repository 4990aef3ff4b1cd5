#!/usr/bin/env bash
# Real clients inside the sandbox, as an agent runs them: each allowed request succeeds and each
# denied one fails with the audit event that says why. Clients that honour the proxy variables go
# through the HTTP proxy; the others (node's fetch, raw sockets, curl --noproxy) are captured
# transparently. Usage: run_clients.sh AIRLOCK_BINARY root|nobody
AIRLOCK_SOURCE=${1:?usage: run_clients.sh AIRLOCK_BINARY root|nobody}
MODE=${2:-root}
. "$(dirname "$0")/lib.sh"
started=$(date +%s)

inner curl << 'EOF_'
echo "== proxy-allowed"; c -o /dev/null -w 'code=%{http_code}\n' "https://api.example.test/cu1-$RUN"
echo "== proxy-denied"; c -o /dev/null -w 'connect=%{http_connect}\n' "https://other.example.test/cu2-$RUN"; echo "exit=$?"
echo "== direct-allowed"; direct -o /dev/null -w 'code=%{http_code}\n' "https://api.example.test/cu3-$RUN"
echo "== direct-denied"; direct -o /dev/null "https://blocked.cdn.example.test/cu4-$RUN"; echo "exit=$?"
echo "== direct-port"; direct -o /dev/null "http://api.example.test:8443/cu5-$RUN"; echo "exit=$?"
EOF_
mark_logs
sandbox curl -- sh curl.sh "$RUN"
begin "curl with the proxy variables: allowed https works"
expect_section proxy-allowed 'code=200' "not served"
expect_audit event=egress.decision decision=allow via=http_connect host=api.example.test port=443
expect_log origin "cu1-$RUN" "it did not reach the origin"
end
begin "curl with the proxy variables: other.example.test is 403"
expect_section proxy-denied 'connect=403' "not answered 403"
expect_audit event=egress.decision decision=deny via=http_connect host=other.example.test port=443 'reason~no rule' process.exe=/usr/bin/curl
end
begin "curl --noproxy (transparent): allowed https works"
expect_section direct-allowed 'code=200' "not served"
expect_audit event=egress.decision decision=allow via=transparent host=api.example.test port=443
expect_log origin "cu3-$RUN" "it did not reach the origin"
end
begin "curl --noproxy (transparent): a denied name does not resolve"
expect_section direct-denied 'exit=6' "curl did not fail to resolve blocked.cdn.example.test (exit 6)"
expect_audit event=egress.decision decision=deny via=dns host=blocked.cdn.example.test
end
begin "curl --noproxy (transparent): an allowed name on a port no rule names is reset"
expect_section direct-port 'exit=(7|52|56)' "curl reached api.example.test:8443"
expect_audit event=egress.decision decision=deny via=transparent host=api.example.test port=8443 'reason~no rule' process.exe=/usr/bin/curl
end

inner wget << 'EOF_'
echo "== allowed"; timeout 15 wget -q -T 8 -t 1 --ca-certificate=ca.crt -O wget.out "https://api.example.test/wg1-$RUN"; echo "exit=$?"
echo "== denied"; timeout 15 wget -q -T 8 -t 1 --ca-certificate=ca.crt -O /dev/null "https://other.example.test/wg2-$RUN"; echo "exit=$?"
EOF_
mark_logs
sandbox wget -- sh wget.sh "$RUN"
begin "wget (https_proxy): allowed works, other.example.test fails"
expect_section allowed 'exit=0' "wget did not fetch the allowed URL"
expect_section denied 'exit=[1-9]' "wget fetched other.example.test"
expect_audit event=egress.decision decision=allow via=http_connect host=api.example.test
expect_audit event=egress.decision decision=deny via=http_connect host=other.example.test process.exe=/usr/bin/wget
expect_log origin "wg1-$RUN" "the allowed request did not reach the origin"
end

inner git << 'EOF_'
export GIT_SSL_CAINFO="$PWD/ca.crt" GIT_TERMINAL_PROMPT=0
rm -rf clone-ok clone-denied
echo "== allowed"; timeout 30 git clone -q https://api.example.test/repo.git clone-ok; echo "exit=$?"; cat clone-ok/README
echo "== denied"; timeout 30 git clone -q https://other.example.test/repo.git clone-denied; echo "exit=$?"
EOF_
sandbox git -- sh git.sh "$RUN"
begin "git clone https:// (libcurl, https_proxy): allowed works, other.example.test fails"
expect_section allowed 'exit=0' "git clone failed"
expect_section allowed 'hello from the bypass origin' "the clone does not hold the repository's file"
expect_section denied 'exit=128' "git clone of other.example.test did not fail"
expect_audit event=egress.decision decision=allow via=http_connect host=api.example.test port=443
expect_audit event=egress.decision decision=deny via=http_connect host=other.example.test 'process.exe~/git-remote-https?$'
end

inner python << 'EOF_'
timeout 20 python3 - "$RUN" << 'PY'
import os, socket, ssl, sys, urllib.request
run = sys.argv[1]
os.environ["SSL_CERT_FILE"] = "ca.crt"
def urllib_get(url):
    try:
        with urllib.request.urlopen(url, timeout=8, context=ssl.create_default_context(cafile="ca.crt")) as r:
            return f"status={r.status}"
    except Exception as error:
        return f"error={type(error).__name__}:{error}"
print("== urllib-allowed"); print(urllib_get(f"https://api.example.test/py1-{run}"))
print("== urllib-denied"); print(urllib_get(f"https://other.example.test/py2-{run}"))
def raw(host, port, tls):
    try:
        s = socket.create_connection((host, port), 5)
        s.settimeout(5)
        if tls:
            s = ssl.create_default_context(cafile="ca.crt").wrap_socket(s, server_hostname=host)
        s.sendall(f"GET /py3-{run} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        return "reply=" + s.recv(100).split(b"\r\n")[0].decode()
    except Exception as error:
        return f"error={type(error).__name__}"
print("== raw-allowed"); print(raw("api.example.test", 443, True))
print("== raw-denied-name"); print(raw("other.example.test", 443, True))
print("== raw-denied-address"); print(raw("198.51.100.20", 443, False))
PY
EOF_
mark_logs
sandbox python -- sh python.sh "$RUN"
begin "python3 urllib (HTTPS_PROXY): allowed works, other.example.test fails"
expect_section urllib-allowed '^status=200$' "urllib did not fetch the allowed URL"
expect_section urllib-denied '^error=.*403' "urllib was not refused with 403"
expect_audit event=egress.decision decision=allow via=http_connect host=api.example.test
expect_audit event=egress.decision decision=deny via=http_connect host=other.example.test process.exe=/usr/bin/python3.11
expect_log origin "py1-$RUN" "the allowed request did not reach the origin"
end
begin "python3 raw socket (transparent): api.example.test:443 works, others are refused"
expect_section raw-allowed '^reply=HTTP/1.1 200' "the raw TLS connection did not work"
expect_section raw-denied-name '^error=gaierror' "other.example.test resolved"
expect_section raw-denied-address '^error=(ConnectionResetError|ConnectionRefusedError|TimeoutError)' "198.51.100.20:443 was reached"
expect_audit event=egress.decision decision=allow via=transparent host=api.example.test port=443
expect_audit event=egress.decision decision=deny via=dns host=other.example.test
expect_audit event=egress.decision decision=deny via=transparent host=198.51.100.20 port=443 process.exe=/usr/bin/python3.11
end

inner node << 'EOF_'
export NODE_EXTRA_CA_CERTS="$PWD/ca.crt"
for url in "https://api.example.test/nd1-$RUN" "https://other.example.test/nd2-$RUN" "https://198.51.100.20/nd3-$RUN"; do
  echo "== $url"
  timeout 20 node -e 'fetch(process.argv[1], {signal: AbortSignal.timeout(8000)}).then(r => console.log("status=" + r.status), e => console.log("error=" + (e.cause ? e.cause.code || e.cause.message : e.message)))' "$url"
done
EOF_
mark_logs
sandbox node -- sh node.sh "$RUN"
begin "node fetch (ignores the proxy variables; transparent): allowed works, others fail"
if ! command -v node > /dev/null; then
  problem "node is not installed (scripts/install-deps.sh --test installs nodejs)"
fi
expect_section "https://api.example.test/nd1-$RUN" '^status=200$' "fetch of the allowed URL failed"
expect_section "https://other.example.test/nd2-$RUN" '^error=(ENOTFOUND|EAI_AGAIN)' "other.example.test resolved"
expect_section "https://198.51.100.20/nd3-$RUN" '^error=' "the IP literal was reached"
expect_audit event=egress.decision decision=allow via=transparent host=api.example.test port=443
expect_audit event=egress.decision decision=deny via=dns host=other.example.test
expect_audit event=egress.decision decision=deny via=transparent host=198.51.100.20 port=443 process.exe=/usr/bin/node
expect_log origin "nd1-$RUN" "the allowed request did not reach the origin"
expect_not_log origin "nd3-$RUN" "the request to the IP literal reached the origin"
end

inner resolvers << 'EOF_'
echo "== dig-allowed"; timeout 10 dig +short +tries=1 +time=3 api.example.test A
echo "== dig-denied"; timeout 10 dig +tries=1 +time=3 other.example.test A | grep -o 'status: [A-Z]*'
echo "== getent-allowed"; timeout 10 getent hosts api.example.test; echo "exit=$?"
echo "== getent-denied"; timeout 10 getent hosts other.example.test; echo "exit=$?"
EOF_
sandbox resolvers -- sh resolvers.sh "$RUN"
begin "dig: an allowed name resolves, a denied one is NXDOMAIN"
expect_section dig-allowed '^198\.51\.100\.10$' "dig api.example.test did not answer 198.51.100.10"
expect_section dig-denied 'status: NXDOMAIN' "dig other.example.test was not NXDOMAIN"
expect_audit event=egress.decision decision=allow via=dns host=api.example.test type=A 'answers[]=198.51.100.10'
expect_audit event=egress.decision decision=deny via=dns host=other.example.test type=A
end
begin "getent hosts (glibc): an allowed name resolves, a denied one does not"
expect_section getent-allowed '^198\.51\.100\.10 +api\.example\.test' "getent hosts api.example.test failed"
expect_section getent-denied 'exit=2' "getent hosts other.example.test did not fail with 2"
end

inner loopback << 'EOF_'
timeout 20 python3 - << 'PY'
import socket, threading
def talk(host, port):
    try:
        s = socket.create_connection((host, port), 3)
        s.settimeout(3)
        s.sendall(b"ping")
        return "reply=" + s.recv(64).decode()
    except OSError as error:
        return f"error={type(error).__name__}"
print("== v4-5432"); print(talk("127.0.0.1", 5432))
print("== v6-5432"); print(talk("::1", 5432))
print("== localhost-5432"); print(talk("localhost", 5432))
print("== v4-5433"); print(talk("127.0.0.1", 5433))
# the sandbox's own loopback still works for local IPC on that port
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 5433)); server.listen()
def serve():
    conn, _ = server.accept(); conn.sendall(b"inside:" + conn.recv(16)); conn.close()
threading.Thread(target=serve, daemon=True).start()
print("== v4-5433-own"); print(talk("127.0.0.1", 5433))
PY
EOF_
mark_logs
sandbox loopback -- sh loopback.sh "$RUN"
begin "localhost:5432 rule: 127.0.0.1:5432, [::1]:5432 and localhost:5432 reach the host's echo service"
expect_section v4-5432 '^reply=echo:ping$' "127.0.0.1:5432 did not reach the host's echo service"
expect_section v6-5432 '^reply=echo:ping$' "[::1]:5432 did not reach the host's echo service"
expect_section localhost-5432 '^reply=echo:ping$' "localhost:5432 did not reach the host's echo service"
expect_log echo 'connection from 127\.0\.0\.1' "the host's echo service saw no IPv4 connection"
expect_log echo 'connection from ::1' "the host's echo service saw no IPv6 connection"
expect_audit event=egress.close host=localhost port=5432 'address=[::1]:5432' ended_by=closed
expect_audit event=egress.decision decision=allow via=transparent host=localhost port=5432 rule=localhost:5432
end
begin "127.0.0.1:5433 stays the sandbox's own loopback (refused; nothing reaches the host's 5433)"
expect_section v4-5433 '^error=ConnectionRefusedError$' "127.0.0.1:5433 was not refused"
expect_section v4-5433-own '^reply=inside:ping$' "a listener on the sandbox's own 127.0.0.1:5433 did not answer"
expect_not_log echo-5433 'connection' "the host's 127.0.0.1:5433 received a connection from the sandbox"
expect_audit --none event=egress.decision port=5433
end

echo "# run time $(( $(date +%s) - started )) s"
finish
