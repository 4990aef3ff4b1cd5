#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this): format gate, -Werror build, unit,
# integration, escape, egress bypass (credentials included) and real-client tests (as root and as
# uid 65534), the same again under ASan+UBSan except the real agent CLIs (tests/agents: slow,
# their stand-ins and CLIs are not ours to instrument) and the escape probes through exec
# (escape_exec_*), which run once, against the release build,
# and every fuzzer (policy loader, TLS, HTTP, SOCKS5, DNS, credentials) for a while.
# Needs root (it switches users, uses cgroups and makes a test network namespace); run with sudo
# otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  command -v sudo > /dev/null || { echo "scripts/test.sh needs root"; exit 2; }
  exec sudo "$0" "$@"
fi
started=$(date +%s)
scripts/install-deps.sh --test

echo "== format (clang-format --dry-run -Werror)"
git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run -Werror

echo "== build (warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
ninja -C build
# Phases that mostly wait (the tests: sandboxes, sockets, timeouts) share the machine with phases
# that only compute (clang-tidy, the fuzzers' clang build), run at low priority beside them; each
# background phase's output is printed when it is collected, and its failure fails the run.
background_log_dir="$(mktemp -d -t airlock-test.XXXXXX)"
trap 'rm -rf "$background_log_dir"' EXIT
start_background() { # NAME COMMAND...
  local name=$1
  shift
  nice -n 19 "$@" > "$background_log_dir/$name.log" 2>&1 &
  eval "background_pid_$name=$!"
}
collect_background() { # NAME
  local name=$1 pid_variable="background_pid_$1"
  local status=0
  wait "${!pid_variable}" || status=$?
  cat "$background_log_dir/$name.log"
  if [ "$status" != 0 ]; then
    echo "== $name FAILED (exit $status)"
    exit "$status"
  fi
}

echo "== lint (clang-tidy, warnings are errors) beside the tests, at $(( $(date +%s) - started )) s"
start_background lint bash -c "git ls-files 'src/*.cpp' | xargs -P $(nproc) -n 4 clang-tidy -p build --quiet 2> /dev/null"

echo "== tests, at $(( $(date +%s) - started )) s"
(cd build && ctest --output-on-failure --timeout 600)
echo "== lint result, at $(( $(date +%s) - started )) s"
collect_background lint

echo "== sanitizers (ASan + UBSan), at $(( $(date +%s) - started )) s"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAIRLOCK_SANITIZE=ON > /dev/null
ninja -C build-asan
echo "== fuzzers' clang build beside the sanitizer tests, at $(( $(date +%s) - started )) s"
start_background fuzz_build tests/fuzz/run_fuzzers.sh --build-only
# Run once, against the release build: the real agent CLIs (slow, not ours to instrument) and
# the escape probes through `airlock exec` (the same probes as escape_*, which do run here; what
# exec adds is the control path, which session_* covers under the sanitizers).
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure --timeout 600 -E '^(agents_|escape_exec_)')
echo "== fuzzers' build result, at $(( $(date +%s) - started )) s"
collect_background fuzz_build

echo "== fuzz (policy loader, TLS ClientHello, HTTP, SOCKS5, DNS, credentials), at $(( $(date +%s) - started )) s"
tests/fuzz/run_fuzzers.sh "${AIRLOCK_FUZZ_SECONDS:-30}"

echo "== all tests passed in $(( $(date +%s) - started )) s"
