#!/usr/bin/env bash
# Runs an agent CLI against the world's stand-ins WITHOUT airlock (a debugging aid and the
# reference for what each CLI needs): a private mount namespace whose /etc/hosts maps the test
# names to the stand-ins, the test CA added the way each CLI reads extra roots, the real key in
# the environment. Root only; the world must be running (world.sh start).
#   outside.sh claude|codex|gemini [ARGS...]     e.g. outside.sh claude -p "say hi"
# Environment: AGENTS_DIR (default: install_agents.sh --path), KEY (default: a fixed test key),
# EXTRA_ENV (more NAME=VALUE words), WRAP (a command to run it under, e.g. "strace -f -o F").
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${AIRLOCK_AGENTS_STATE:-/tmp/airlock-agents-world}
cli=${1:?usage: outside.sh claude|codex|gemini [ARGS...]}
shift
agents=${AGENTS_DIR:-$("$HERE/install_agents.sh" --path)} || { echo "agents not installed (install_agents.sh)" >&2; exit 1; }
home=$(mktemp -d /tmp/airlock-agents-outside.XXXXXX)
trap 'rm -rf "$home"' EXIT
{
  grep -v example.test /etc/hosts
  for name in api.anthropic.example.test api.openai.example.test generativelanguage.example.test other.example.test; do
    echo "203.0.113.70 $name"
  done
  echo "203.0.113.80 kms.example.test"
} > "$home/hosts"
bundle="$home/ca-bundle.crt"
cat /etc/ssl/certs/ca-certificates.crt "$STATE/ca.crt" > "$bundle"
common=(HOME="$home" PATH="$agents/node_modules/.bin:/usr/bin:/bin" LANG=C.UTF-8 TERM=dumb
  NODE_EXTRA_CA_CERTS="$STATE/ca.crt" SSL_CERT_FILE="$bundle")
case $cli in
  claude)
    env=(ANTHROPIC_API_KEY="${KEY:-sk-ant-api03-outside-0123456789abcdefghij0123456789abcdefghij}"
      ANTHROPIC_BASE_URL=https://api.anthropic.example.test
      DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 DISABLE_BUG_COMMAND=1 DISABLE_AUTOUPDATER=1
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1)
    ;;
  codex)
    env=(CODEX_API_KEY="${KEY:-sk-proj-outside0123456789abcdefghij0123456789abcdefghij}"
      OPENAI_API_KEY="${KEY:-sk-proj-outside0123456789abcdefghij0123456789abcdefghij}"
      OPENAI_BASE_URL=https://api.openai.example.test/v1 CODEX_CA_CERTIFICATE="$bundle")
    ;;
  gemini)
    env=(GEMINI_API_KEY="${KEY:-AIzaSyOutside0123456789abcdefghij0123456}"
      GOOGLE_GEMINI_BASE_URL=https://generativelanguage.example.test
      GEMINI_TELEMETRY_ENABLED=false OTEL_SDK_DISABLED=true)
    # with GOOGLE_GEMINI_BASE_URL set and no auth type in settings, the CLI picks "gateway", which
    # a non-interactive run refuses ("Invalid auth method selected."); the settings pick the key
    mkdir -p "$home/.gemini"
    echo '{"security":{"auth":{"selectedType":"gemini-api-key"}},"privacy":{"usageStatisticsEnabled":false}}' \
      > "$home/.gemini/settings.json"
    ;;
  *) echo "unknown CLI $cli" >&2; exit 2 ;;
esac
for key in anthropic openai gemini; do rm -f "$STATE/keys/$key"; done
# shellcheck disable=SC2016,SC2086  # $1 expands in the inner sh; WRAP and EXTRA_ENV are word lists
cd "$home" && unshare -m sh -c 'mount --bind "$1/hosts" /etc/hosts && shift && exec "$@"' sh "$home" \
  ${WRAP:-} env -i "${common[@]}" "${env[@]}" ${EXTRA_ENV:-} "$cli" "$@"
