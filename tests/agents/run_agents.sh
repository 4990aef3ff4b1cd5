#!/usr/bin/env bash
# Real agent CLIs (Claude Code, Codex, Gemini CLI, from npm, pinned in package.json) inside
# `airlock run`, against the stand-ins of world.sh, with each API key only in the caller's
# environment; then the credential edge cases with small clients. As root or as uid 65534.
#   run_agents.sh AIRLOCK_BINARY root|nobody
# Prints "ok - NAME" / "not ok - NAME: why" and "N passed, N failed". README.md says what each
# check proves.
AIRLOCK_SOURCE=${1:?usage: run_agents.sh AIRLOCK_BINARY root|nobody}
MODE=${2:-root}
. "$(dirname "$0")/lib.sh"
started=$(date +%s)

# The real values: random per run, only in the caller's environment (SANDBOX_ENV), in the
# stand-ins' key files (they answer 401 to anything else) and in root-only files for the scanner.
ANTHROPIC_REAL="sk-ant-api03-test-$(rand_alnum 40)"
OPENAI_REAL="sk-proj-test-$(rand_alnum 48)"
GEMINI_REAL="AIzaSy$(rand_alnum 33)"
SERVICE_SECRET="svc-$(rand_alnum 32)"
keys_made=$(date +%s.%N)
mkdir -m 0700 "$scratch/keys"
printf '%s\n' "$ANTHROPIC_REAL" > "$scratch/keys/anthropic"
printf '%s\n' "$OPENAI_REAL" > "$scratch/keys/openai"
printf '%s\n' "$GEMINI_REAL" > "$scratch/keys/gemini"
for api in anthropic openai gemini; do
  install -m 0644 "$scratch/keys/$api" "$WORLD/keys/$api"
done
ALL_ENV=(ANTHROPIC_API_KEY="$ANTHROPIC_REAL" OPENAI_API_KEY="$OPENAI_REAL" GEMINI_API_KEY="$GEMINI_REAL")

common_network="  upstream_ca: $WORLD/ca.crt
  dns_upstream: 127.0.0.1:5363"

# Gemini CLI reads its auth type and the usage-statistics switch only from settings.json
# (README "What each CLI needs"); a user of the profile has this file, so the test's HOME has it.
mkdir -p "$home/.gemini"
echo '{"security":{"auth":{"selectedType":"gemini-api-key"}},"privacy":{"usageStatisticsEnabled":false}}' \
  > "$home/.gemini/settings.json"
chmod 0700 "$home/.gemini"
owner "$home"

CODEX_FLAGS='-c analytics.enabled=false -c features.plugins=false -c feedback.enabled=false -c check_for_update_on_startup=false'

# ---- the CLIs, TLS interception ------------------------------------------------------------------
# agent CLI API VARIABLE HOST HEADER POLICY COMMAND: runs COMMAND (sh) in the sandbox while the
# stand-in holds the first model request; the key scan runs while it is held.
agent() {
  local cli=$1 api=$2 variable=$3 host=$4 header=$5 policy_file=$6 command=$7
  local real
  real=$(cat "$scratch/keys/$api")
  cat > "$workspace/$cli.sh" << EOF_
rm -f placeholder-$cli.txt
printenv $variable > placeholder-$cli.txt
echo "== env"; env | grep -E '^(ANTHROPIC_BASE_URL|OPENAI_BASE_URL|GOOGLE_GEMINI_BASE_URL)=' | sort
echo "== cli"; $command < /dev/null; echo "exit=\$?"
EOF_
  chmod 0644 "$workspace/$cli.sh"
  owner "$workspace/$cli.sh"
  rm -f "$WORLD/release" "$WORLD"/held-* "$scratch/scan-$cli.txt"
  touch "$WORLD/hold"
  mark_requests
  SANDBOX_ENV=("${ALL_ENV[@]}" SERVICE_TOKEN="$SERVICE_SECRET")
  sandbox_start "$cli" --policy "$policy_file" -- sh "$cli.sh"
  SANDBOX_ENV=()
  local deadline=$((SECONDS + 90)) held=0
  while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$supervisor" 2> /dev/null; do
    [ -f "$WORLD/held-$api" ] && { held=1; break; }
    sleep 0.1
  done
  if [ "$held" = 1 ]; then
    /usr/bin/python3 "$AGENTS_DIR_HERE/key_scan.py" "$supervisor" --needle-file "$scratch/keys/$api" \
      --placeholder-file "$workspace/placeholder-$cli.txt" --since "$keys_made" > "$scratch/scan-$cli.txt" 2>&1
    echo "scan-exit=$?" >> "$scratch/scan-$cli.txt"
  fi
  touch "$WORLD/release"
  rm -f "$WORLD/hold"
  sandbox_wait 150
  rm -f "$WORLD/release" "$WORLD"/held-*
  PLACEHOLDER=$(cat "$workspace/placeholder-$cli.txt" 2> /dev/null)
  REAL=$real

  begin "$cli prints the stand-in's answer through TLS interception ($host)"
  expect_section cli "pong from the $api stand-in" "the CLI did not print the stand-in's answer"
  expect_section cli '^exit=0$' "the CLI failed"
  expect_audit event=credential.use credential="$variable" host="$host" method=POST
  expect_audit event=egress.close host="$host" port=443 intercepted=true
  expect_audit event=sandbox.start "credentials~$variable"
  end

  begin "$cli: the stand-in got the real key in $header, every model request, never the placeholder"
  [ -n "$PLACEHOLDER" ] || problem "no placeholder was written inside (printenv $variable)"
  [ "$PLACEHOLDER" != "$REAL" ] || problem "the sandbox's $variable holds the real value"
  expect_standin "len([r for r in requests if r['api'] == '$api']) > 0" "no request reached the $api stand-in"
  expect_standin "all(r['key_ok'] and r['key_header'] == '$header' for r in requests if r['api'] == '$api')" \
    "a request to the stand-in did not carry the real key in $header"
  expect_standin "not any(placeholder in json.dumps(r) for r in requests)" "the placeholder reached the stand-in"
  end

  begin "$cli: the answer streamed in pieces (SSE events written 0.15 s apart), and the CLI got all of them"
  # the stand-in logs each SSE event it writes; group them by (connection, request)
  local streams="[[w['t'] for w in records if w['kind'] == 'sse_write' and (w['conn'], w['req']) == key] for key in {(w['conn'], w['req']) for w in records if w['kind'] == 'sse_write'}]"
  expect_standin "max([len(s) for s in $streams] or [0]) >= 5" "the stand-in wrote no stream of 5 or more events"
  expect_standin "max([max(s) - min(s) for s in $streams if s] or [0]) >= 0.5" "no stream was written over 0.5 s"
  expect_section cli "pong from the $api stand-in" "the CLI did not get every piece of the text"
  end

  begin "$cli: key scan while it waits on the stand-in: the real key in no process or file of the sandbox, the placeholder found"
  if [ "$held" != 1 ]; then
    problem "the CLI's model request never reached the stand-in (no held-$api), so nothing was scanned"
  else
    local real_line placeholder_line
    real_line=$(grep '^real:' "$scratch/scan-$cli.txt")
    placeholder_line=$(grep '^placeholder:' "$scratch/scan-$cli.txt")
    grep -q '^scan-exit=0$' "$scratch/scan-$cli.txt" || problem "key_scan.py failed" "$(tail -5 "$scratch/scan-$cli.txt")"
    [[ $real_line == *" total=0"* ]] ||
      problem "the real key is in the sandbox: $real_line" "$(grep -E '^hit real|^pids:' "$scratch/scan-$cli.txt" | head -12 | cut -c1-250)"
    for place in environ memory files; do
      [[ $placeholder_line =~ (^| )$place=[1-9] ]] || problem "the scan did not find the placeholder in $place (blind?): $placeholder_line"
    done
  fi
  end

  begin "$cli: no output, stderr line or audit event holds the real key"
  expect_no_secret "$REAL" "the sandbox's output or airlock's stderr" "$output"
  expect_no_secret "$REAL" "the audit log" "$audit"
  expect_not_out "$SERVICE_SECRET" "the dropped SERVICE_TOKEN's value was printed"
  expect_out '^airlock: not passing SERVICE_TOKEN into the sandbox \(it looks like a secret\)' "no line names the dropped SERVICE_TOKEN"
  end

  begin "$cli: its config directory works (no EACCES / read-only errors)"
  expect_not_out 'EACCES|EPERM|[Pp]ermission denied|Read-only file system|EROFS' "the CLI could not use its files"
  end
  local asked
  asked=$(jq -r 'select(.event == "egress.decision" and .via != "dns") | "\(.decision) \(.host):\(.port)"' "$audit" 2> /dev/null | sort | uniq -c | tr -s ' ' | paste -sd, -)
  echo "# $cli asked for:$asked"
}

CLAUDE_POLICY=$(policy claude "version: 1
name: agents-claude
extends: [claude-code]
network:
  mode: allowlist
  allow: [api.anthropic.example.test:443]
$common_network
process:
  env:
    set: {ANTHROPIC_BASE_URL: \"https://api.anthropic.example.test\"}
credentials:
  - {name: ANTHROPIC_API_KEY, from: \"env:ANTHROPIC_API_KEY\", hosts: [api.anthropic.example.test]}
")
agent claude anthropic ANTHROPIC_API_KEY api.anthropic.example.test x-api-key "$CLAUDE_POLICY" \
  'claude -p "say hi"'

# Codex 0.171 takes its base URL only from config (-c openai_base_url), not from the environment;
# OPENAI_BASE_URL is set too, for the command line to use.
CODEX_POLICY=$(policy codex "version: 1
name: agents-codex
extends: [codex]
network:
  mode: allowlist
  allow: [api.openai.example.test:443]
$common_network
process:
  env:
    set: {OPENAI_BASE_URL: \"https://api.openai.example.test/v1\"}
credentials:
  - {name: OPENAI_API_KEY, from: \"env:OPENAI_API_KEY\", hosts: [api.openai.example.test]}
  - {name: CODEX_API_KEY, from: \"env:OPENAI_API_KEY\", hosts: [api.openai.example.test]}
")
agent codex openai CODEX_API_KEY api.openai.example.test authorization "$CODEX_POLICY" \
  "codex exec --skip-git-repo-check -c openai_base_url=\"\$OPENAI_BASE_URL\" $CODEX_FLAGS \"say hi\""

GEMINI_POLICY=$(policy gemini "version: 1
name: agents-gemini
extends: [gemini-cli]
network:
  mode: allowlist
  allow: [generativelanguage.example.test:443]
$common_network
process:
  env:
    set: {GOOGLE_GEMINI_BASE_URL: \"https://generativelanguage.example.test\", GEMINI_CLI_TRUST_WORKSPACE: \"true\"}
credentials:
  - {name: GEMINI_API_KEY, from: \"env:GEMINI_API_KEY\", hosts: [generativelanguage.example.test]}
")
agent gemini gemini GEMINI_API_KEY generativelanguage.example.test x-goog-api-key "$GEMINI_POLICY" \
  'gemini -p "say hi"'

# ---- the local endpoint path ------------------------------------------------------------------
# endpoint: the variable holds http://127.0.0.1:PORT inside; plain HTTP there leaves as verified TLS.
CLAUDE_ENDPOINT_POLICY=$(policy claude-endpoint "version: 1
name: agents-claude-endpoint
extends: [claude-code]
network:
  mode: allowlist
  allow: [api.anthropic.example.test:443]
$common_network
credentials:
  - {name: ANTHROPIC_API_KEY, from: \"env:ANTHROPIC_API_KEY\", hosts: [api.anthropic.example.test], endpoint: ANTHROPIC_BASE_URL}
")
cat > "$workspace/claude-endpoint.sh" << 'EOF_'
echo "== env"; printenv ANTHROPIC_BASE_URL; printenv ANTHROPIC_API_KEY
echo "== cli"; claude -p "say hi" < /dev/null; echo "exit=$?"
EOF_
CODEX_ENDPOINT_POLICY=$(policy codex-endpoint "version: 1
name: agents-codex-endpoint
extends: [codex]
network:
  mode: allowlist
  allow: [api.openai.example.test:443]
$common_network
credentials:
  - {name: OPENAI_API_KEY, from: \"env:OPENAI_API_KEY\", hosts: [api.openai.example.test]}
  - {name: CODEX_API_KEY, from: \"env:OPENAI_API_KEY\", hosts: [api.openai.example.test], endpoint: {env: OPENAI_BASE_URL, path: /v1}}
")
cat > "$workspace/codex-endpoint.sh" << EOF_
echo "== env"; printenv OPENAI_BASE_URL
echo "== cli"; codex exec --skip-git-repo-check -c openai_base_url="\$OPENAI_BASE_URL" $CODEX_FLAGS "say hi" < /dev/null; echo "exit=\$?"
EOF_
chmod 0644 "$workspace"/*-endpoint.sh
owner "$workspace"
for cli in claude codex; do
  case $cli in
    claude) api=anthropic variable=ANTHROPIC_API_KEY host=api.anthropic.example.test endpoint_policy=$CLAUDE_ENDPOINT_POLICY ;;
    codex) api=openai variable=CODEX_API_KEY host=api.openai.example.test endpoint_policy=$CODEX_ENDPOINT_POLICY ;;
  esac
  mark_requests
  SANDBOX_ENV=("${ALL_ENV[@]}")
  sandbox "$cli-endpoint" --policy "$endpoint_policy" -- sh "$cli-endpoint.sh"
  SANDBOX_ENV=()
  REAL=$(cat "$scratch/keys/$api") PLACEHOLDER=""
  begin "$cli through the local endpoint (endpoint: -> http://127.0.0.1:PORT inside, verified TLS to $host outside)"
  expect_section env '^http://127\.0\.0\.1:15[0-9]{3}(/v1)?$' "the endpoint variable is not a local http URL"
  expect_section cli "pong from the $api stand-in" "the CLI did not print the stand-in's answer"
  expect_section cli '^exit=0$' "the CLI failed"
  expect_standin "len([r for r in requests if r['api'] == '$api']) > 0 and all(r['key_ok'] and r['sni'] == '$host' for r in requests if r['api'] == '$api')" \
    "the stand-in did not get the real key over TLS (SNI $host) on every request"
  expect_audit event=credential.use credential="$variable" host="$host" method=POST
  expect_audit event=egress.close via=endpoint
  expect_no_secret "$REAL" "the sandbox's output or airlock's stderr" "$output"
  expect_no_secret "$REAL" "the audit log" "$audit"
  end
done

# ---- small clients: echo, misuse, smuggling, a second Host, streaming, pid 1 -------------------
PROBES_POLICY=$(policy probes "version: 1
name: agents-probes
network:
  mode: allowlist
  allow: [api.anthropic.example.test:443, api.anthropic.example.test:80, api.openai.example.test:443,
          other.example.test:443, other.example.test:80]
$common_network
credentials:
  - {name: ANTHROPIC_API_KEY, from: \"env:ANTHROPIC_API_KEY\", hosts: [api.anthropic.example.test]}
  - {name: OPENAI_API_KEY, from: \"env:OPENAI_API_KEY\", hosts: [api.openai.example.test]}
")
printf 'POST /echo?m=smuggle-%s HTTP/1.1\r\nHost: api.anthropic.example.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX' "$RUN" > "$workspace/smuggle.txt"
printf 'GET /echo?m=ka1-%s HTTP/1.1\r\nHost: api.anthropic.example.test\r\n\r\n' "$RUN" > "$workspace/keepalive-1.txt"
printf 'GET /echo?m=ka2-%s HTTP/1.1\r\nHost: other.example.test\r\nx-api-key: PLACEHOLDER\r\n\r\n' "$RUN" > "$workspace/keepalive-2.txt"
cat > "$workspace/probes.sh" << 'EOF_'
RUN=$1
c() { timeout 10 curl -sS --max-time 8 "$@"; }   # HTTPS_PROXY (CONNECT), airlock's CURL_CA_BUNDLE
echo "== env"; printenv ANTHROPIC_API_KEY; echo "service-token=[$(printenv SERVICE_TOKEN)]"
echo "== echo"; c -H "x-api-key: $ANTHROPIC_API_KEY" "https://api.anthropic.example.test/echo?m=echo-$RUN"
echo "== misuse-intercepted"; c -i -H "x-api-key: $ANTHROPIC_API_KEY" "https://api.openai.example.test/echo?m=mi-$RUN"; echo "exit=$?"
echo "== misuse-plain"; c -i -H "x-api-key: $ANTHROPIC_API_KEY" "http://other.example.test/echo?m=mp-$RUN"; echo "exit=$?"
echo "== misuse-plain-bound"; c -i --noproxy '*' -H "x-api-key: $ANTHROPIC_API_KEY" "http://api.anthropic.example.test/echo?m=mb-$RUN"; echo "exit=$?"
echo "== opaque"; c --cacert world-ca.crt -H "x-api-key: $ANTHROPIC_API_KEY" "https://other.example.test/echo?m=op-$RUN"; echo "exit=$?"
echo "== smuggle"; timeout 15 python3 probe.py raw api.anthropic.example.test 443 smuggle.txt
sed "s/PLACEHOLDER/$ANTHROPIC_API_KEY/" keepalive-2.txt > /tmp/keepalive-2.txt
echo "== second-host"; timeout 15 python3 probe.py keepalive api.anthropic.example.test 443 keepalive-1.txt /tmp/keepalive-2.txt
echo "== stream"; timeout 25 node stream_client.js https://api.anthropic.example.test/v1/messages x-api-key ANTHROPIC_API_KEY
echo "== pid1"; timeout 10 python3 probe.py pid1
EOF_
chmod 0644 "$workspace"/*.txt "$workspace/probes.sh"
owner "$workspace"
mark_requests
SANDBOX_ENV=("${ALL_ENV[@]}" SERVICE_TOKEN="$SERVICE_SECRET")
sandbox probes --verbose --policy "$PROBES_POLICY" -- sh probes.sh "$RUN"
SANDBOX_ENV=()
REAL=$ANTHROPIC_REAL
PLACEHOLDER=$(section env | grep -E '^sk-ant-api03-' | head -1)

begin "echo origin: the real key arrives, the response carries the placeholder back, never the key"
expect_section echo "echo from the stand-in" "the echo did not arrive"
expect_section echo "x-api-key: $PLACEHOLDER" "the echoed header is not the placeholder"
expect_not_out "$ANTHROPIC_REAL" "the real key came back into the sandbox"
expect_standin "any('echo-$RUN' in r['target'] and r['key'] == real for r in requests)" "the stand-in did not get the real key on /echo"
end

begin "misuse: the placeholder sent to another intercepted host is refused (403) and audited with the process"
expect_section misuse-intercepted '^HTTP/1.1 403' "not answered 403"
expect_section misuse-intercepted '^X-Airlock-Reason: ' "no X-Airlock-Reason"
expect_standin "not any('mi-$RUN' in r['target'] for r in requests)" "the request reached the stand-in"
expect_audit event=credential.misuse credential=ANTHROPIC_API_KEY host=api.openai.example.test process.exe=/usr/bin/curl
end

begin "misuse: the placeholder in plain HTTP (another host through the proxy; the bound host, transparent) is refused and audited"
expect_section misuse-plain '^HTTP/1.1 403' "plain HTTP to other.example.test not answered 403"
expect_section misuse-plain-bound '^HTTP/1.1 403' "plain HTTP to the bound host not answered 403"
expect_standin "not any(m in r['target'] for r in requests for m in ('mp-$RUN', 'mb-$RUN'))" "a plain-HTTP request with the placeholder reached the stand-in"
expect_audit event=credential.misuse credential=ANTHROPIC_API_KEY host=other.example.test process.exe=/usr/bin/curl
expect_audit event=credential.misuse credential=ANTHROPIC_API_KEY host=api.anthropic.example.test process.exe=/usr/bin/curl
end

begin "a host the credential is not bound to stays end-to-end TLS: it gets the placeholder, never the key"
expect_section opaque "x-api-key: $PLACEHOLDER" "other.example.test did not answer with the placeholder it got"
expect_standin "any('op-$RUN' in r['target'] and r['sni'] == 'other.example.test' for r in requests) and not any(real in json.dumps(r) for r in requests if r['host'] == 'other.example.test')" \
  "other.example.test got the real key (or nothing)"
end

begin "inside an intercepted connection: Content-Length with Transfer-Encoding is refused, never forwarded"
section smuggle | grep -v '^$' | head -1 | grep -Eq '^(HTTP/1.1 400|closed|error)' ||
  problem "the smuggling-shaped request was not refused" "$(section smuggle | head -5)"
expect_standin "not any('smuggle-$RUN' in r['target'] for r in requests)" "the smuggling-shaped request reached the stand-in"
expect_audit event=egress.decision decision=deny host=api.anthropic.example.test 'reason~Content-Length together with Transfer-Encoding'
end

begin "inside an intercepted connection: a second request with another Host is cut"
expect_section second-host '^first: HTTP/1.1 200' "the first request did not get through"
expect_section second-host '^second: (closed|error)' "the connection was not cut at the second request"
expect_standin "any('ka1-$RUN' in r['target'] for r in requests) and not any('ka2-$RUN' in r['target'] for r in requests)" \
  "the second request (Host: other.example.test) reached the stand-in"
expect_audit event=egress.decision decision=deny host=api.anthropic.example.test 'reason~other.example.test'
end

begin "streaming through interception: node's fetch gets the SSE deltas as they are written (0.15 s apart)"
expect_section stream '"status":200' "the streamed request failed"
expect_section stream '"text":"pong from the anthropic stand-in"' "the deltas did not add up to the answer"
if [[ $(section stream) =~ \"bursts\":([0-9]+).*\"spread_ms\":([0-9]+) ]]; then
  [ "${BASH_REMATCH[1]}" -ge 5 ] || problem "the body arrived in ${BASH_REMATCH[1]} bursts, not one per delta (5)" "$(section stream)"
  [ "${BASH_REMATCH[2]}" -ge 500 ] || problem "the body arrived within ${BASH_REMATCH[2]} ms (written over 0.6 s)" "$(section stream)"
else
  problem "no timing from the stream client" "$(section stream)"
fi
end

begin "the sandbox's pid 1 (airlock's own, same uid) cannot be read from inside"
expect_section pid1 '^ptrace-attach=' "the probe did not run"
expect_not_out '^ptrace-attach=ok|^process_vm_readv=ok|^proc-environ=ok' "the sandbox could read pid 1's memory or environment"
end

begin "dropped environment: one line per secret-looking name (no value), none inside; --verbose and the audit log hold no real value"
expect_out '^airlock: not passing SERVICE_TOKEN into the sandbox \(it looks like a secret\)' "no line names the dropped SERVICE_TOKEN"
expect_section env '^service-token=\[\]$' "SERVICE_TOKEN reached the sandbox"
expect_not_out "$SERVICE_SECRET" "SERVICE_TOKEN's value was printed"
for value in "$ANTHROPIC_REAL" "$OPENAI_REAL" "$SERVICE_SECRET"; do
  expect_no_secret "$value" "airlock's stderr (--verbose) or the sandbox's output" "$output"
  expect_no_secret "$value" "the audit log" "$audit"
done
end

# ---- ttl and max_uses ------------------------------------------------------------------------
LIMITS_POLICY=$(policy limits "version: 1
name: agents-limits
network:
  mode: allowlist
  allow: [api.anthropic.example.test:443, api.openai.example.test:443]
$common_network
credentials:
  - {name: ANTHROPIC_API_KEY, from: \"env:ANTHROPIC_API_KEY\", hosts: [api.anthropic.example.test], ttl: 2s}
  - {name: OPENAI_API_KEY, from: \"env:OPENAI_API_KEY\", hosts: [api.openai.example.test], max_uses: 1}
")
cat > "$workspace/limits.sh" << 'EOF_'
RUN=$1
c() { timeout 10 curl -sS --max-time 8 "$@"; }
echo "== short-1"; c -o /dev/null -w 'code=%{http_code}\n' -H "x-api-key: $ANTHROPIC_API_KEY" "https://api.anthropic.example.test/echo?m=short1-$RUN"
echo "== once-1"; c -o /dev/null -w 'code=%{http_code}\n' -H "Authorization: Bearer $OPENAI_API_KEY" "https://api.openai.example.test/echo?m=once1-$RUN"
echo "== once-2"; c -i -H "Authorization: Bearer $OPENAI_API_KEY" "https://api.openai.example.test/echo?m=once2-$RUN" | head -3
sleep 2.5
echo "== short-2"; c -i -H "x-api-key: $ANTHROPIC_API_KEY" "https://api.anthropic.example.test/echo?m=short2-$RUN" | head -3
EOF_
chmod 0644 "$workspace/limits.sh"
owner "$workspace"
mark_requests
SANDBOX_ENV=("${ALL_ENV[@]}")
sandbox limits --policy "$LIMITS_POLICY" -- sh limits.sh "$RUN"
SANDBOX_ENV=()
begin "max_uses 1: the first use works, the second is 403 and audited as credential.expired"
expect_section once-1 '^code=200$' "the first use failed"
expect_section once-2 '^HTTP/1.1 403' "the second use was not refused"
expect_standin "any('once1-$RUN' in r['target'] for r in requests) and not any('once2-$RUN' in r['target'] for r in requests)" "the second use reached the stand-in (or the first did not)"
expect_audit event=credential.expired credential=OPENAI_API_KEY host=api.openai.example.test 'reason~max_uses'
end
begin "ttl 2s: a use within it works, one after it is 403 and audited as credential.expired"
expect_section short-1 '^code=200$' "the use within the ttl failed"
expect_section short-2 '^HTTP/1.1 403' "the use after the ttl was not refused"
expect_standin "any('short1-$RUN' in r['target'] for r in requests) and not any('short2-$RUN' in r['target'] for r in requests)" "the expired use reached the stand-in (or the first did not)"
expect_audit event=credential.expired credential=ANTHROPIC_API_KEY host=api.anthropic.example.test 'reason~ttl'
end

# ---- mTLS ------------------------------------------------------------------------------------
# The KMS (openssl s_server -Verify 1 -www) answers only a client certificate from the test CA.
# The client key lies in the workspace, where the sandbox would see it: airlock must hide it.
cp "$WORLD/kms-client.crt" "$workspace/kms-client.crt"
install -m 0600 "$WORLD/kms-client.key" "$workspace/kms-client.key"
owner "$workspace/kms-client.crt" "$workspace/kms-client.key"
MTLS_POLICY=$(policy mtls "version: 1
name: agents-mtls
network:
  mode: allowlist
  allow: [\"kms.example.test:8443\"]
$common_network
credentials:
  - {name: kms, type: mtls, host: \"kms.example.test:8443\", cert: $workspace/kms-client.crt, key: $workspace/kms-client.key, ca: $WORLD/ca.crt}
")
cat > "$workspace/mtls.sh" << 'EOF_'
echo "== plain"; timeout 15 python3 probe.py plain kms.example.test 8443
echo "== tls"; timeout 15 python3 probe.py tls kms.example.test 8443
echo "== key"; cat kms-client.key 2>&1 | head -1; echo "size=$(wc -c < kms-client.key 2>/dev/null)"
EOF_
chmod 0644 "$workspace/mtls.sh"
owner "$workspace/mtls.sh"
begin "mTLS control (outside): the KMS refuses a client without a certificate"
if printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client -quiet -connect 203.0.113.80:8443 -servername kms.example.test -CAfile "$WORLD/ca.crt" 2>&1 | grep -q '^HTTP/1.0 200'; then
  problem "the KMS answered a client without a certificate"
fi
end
sandbox mtls --policy "$MTLS_POLICY" -- sh mtls.sh
begin "mTLS: plain TCP and TLS from inside reach the KMS with airlock's client certificate"
expect_section plain '^HTTP/1.0 200' "plain TCP did not get through"
expect_section plain '^client-certificate=airlock agents test KMS client' "the KMS did not see the client certificate (plain)"
expect_section tls '^HTTP/1.0 200' "TLS (terminated with the run CA) did not get through"
expect_section tls '^client-certificate=airlock agents test KMS client' "the KMS did not see the client certificate (TLS)"
expect_audit event=egress.decision decision=allow host=kms.example.test port=8443
end
begin "mTLS: the client key in the workspace is not readable inside"
expect_not_out 'BEGIN (RSA |EC )?PRIVATE KEY' "the key was readable inside the sandbox"
expect_section key '^size=0?$' "the key file has content inside"
end

echo "# run time $(($(date +%s) - started)) s"
finish
