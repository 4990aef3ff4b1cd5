#!/usr/bin/env bash
# Installs the agent CLIs pinned in package.json / package-lock.json (npm ci) into a cache that
# survives between runs and that a sandbox can read (airlock's default policy shows /opt
# read-only; /var is not visible inside):
#   /opt/airlock-test-agents/<first 16 hex of sha256(package-lock.json)>/node_modules
# Idempotent: an install that completed (the .complete stamp) is reused without touching the
# network. Prints the install directory on stdout (everything else goes to stderr).
#   install_agents.sh          install when missing, print the directory
#   install_agents.sh --path   print the directory only (exit 1 when it is not installed)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE_ROOT=${AIRLOCK_AGENTS_CACHE:-/opt/airlock-test-agents}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

hash=$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -c1-16)
dir="$CACHE_ROOT/$hash"

complete() {
  [ -f "$dir/.complete" ] &&
    [ -x "$dir/node_modules/@anthropic-ai/claude-code/bin/claude.exe" ] &&
    [ -f "$dir/node_modules/@openai/codex/bin/codex.js" ] &&
    [ -f "$dir/node_modules/@google/gemini-cli/bundle/gemini.js" ]
}

if [ "${1:-}" = --path ]; then
  complete || exit 1
  echo "$dir"
  exit 0
fi

exec 9> "/tmp/airlock-test-agents.lock"
flock 9
if complete; then
  echo "$dir"
  exit 0
fi

command -v npm > /dev/null || { echo "install_agents.sh: npm is not installed (apt-get install npm)" >&2; exit 1; }
umask 022
mkdir -p "$CACHE_ROOT" && chmod 0755 "$CACHE_ROOT"
rm -rf "$dir.partial"
mkdir -p "$dir.partial"
cp "$HERE/package.json" "$HERE/package-lock.json" "$dir.partial/"
echo "install_agents.sh: npm ci into $dir" >&2
# --include=optional: the CLIs' native binaries are optional dependencies
# (@anthropic-ai/claude-code-linux-x64, @openai/codex-linux-x64); Claude Code's postinstall
# (install.cjs) puts its platform binary at bin/claude.exe, so scripts must run.
if ! (cd "$dir.partial" && npm ci --prefix "$dir.partial" --include=optional --no-audit --no-fund \
  --loglevel=error >&2); then
  echo "install_agents.sh: npm ci failed" >&2
  rm -rf "$dir.partial"
  exit 1
fi
rm -rf "$dir"
mv "$dir.partial" "$dir"
# npm wrote paths under $dir.partial into nothing that matters (bin links are relative); check
# every CLI starts and prints its version
failed=0
for cli in claude codex gemini; do
  if ! version=$(timeout 60 "$dir/node_modules/.bin/$cli" --version 2>&1 < /dev/null); then
    echo "install_agents.sh: $cli --version failed: $version" >&2
    failed=1
  else
    echo "install_agents.sh: $cli $version" >&2
  fi
done
[ -x "$dir/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex" ] ||
  { echo "install_agents.sh: codex's native binary (@openai/codex-linux-x64) is missing" >&2; failed=1; }
[ "$failed" = 0 ] || exit 1
chmod -R a+rX "$dir"
touch "$dir/.complete"
echo "$dir"
