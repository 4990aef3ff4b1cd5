#!/usr/bin/env bash
# Installs the Debian 12 packages airlock needs, only those missing. Usage:
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the test suite, fuzzers and benchmarks use
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config   # toolchain
  libseccomp-dev      # seccomp-bpf filters compiled from a rule model
  libyaml-cpp-dev     # policy files, with line:column marks for every error
  nlohmann-json3-dev  # audit events (JSON Lines) and `check --json`
  libcli11-dev        # command-line parsing
  libfmt-dev          # formatting of messages and events
  nettle-dev          # SHA-256 of the policy (static, no library initialisation at start-up)
  libnftables-dev     # the transparent-capture ruleset inside the sandbox's network namespace
  libc-ares-dev       # asynchronous DNS for the egress proxy (no blocking call on its loop)
  libidn2-dev         # UTS#46 host normalisation (IDN to ASCII) before policy matching
  libssl-dev          # TLS interception for credentials: the run CA, both TLS sides
  libpsl-dev publicsuffix  # check/suggest: registrable domains from the public suffix list
)
if [ "${1:-}" = "--test" ]; then
  packages+=(
    libgtest-dev        # unit and escape tests
    clang libclang-rt-14-dev  # libFuzzer (the policy loader fuzzer)
    clang-format clang-tidy   # format and lint gates
    python3 util-linux bsdutils procps  # test clients, setpriv, script(1), pgrep
    python3-pip         # tests/observe: pip download from a local PEP 503 index
    hyperfine bubblewrap time  # bench/startup compares against bwrap
    libbenchmark-dev    # bench/*_bench.cpp (host matcher)
    dnsmasq-base bind9-dnsutils curl wget git nodejs iproute2 nftables openssl  # egress tests: upstream DNS, real clients
    ca-certificates     # tests/agents: npm (it comes with nodejs here) fetches the agent CLIs over TLS
    python3-jsonschema jq  # tests/explain: explain's JSON against its schema, the jq assertion
    squid tinyproxy wrk # bench/egress compares the proxy against squid and tinyproxy
    postgresql          # tests/link: a real PostgreSQL (initdb, postgres) in one sandbox, psql in another
  )
  # npm comes with some nodejs builds (NodeSource's) and is a package of its own in Debian's.
  command -v npm > /dev/null || packages+=(npm)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
