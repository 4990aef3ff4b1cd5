#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan+UBSan) and run each for a while on a copy of its seed
# corpus. Exit status: 0 when every fuzzer ran clean, non-zero on any crash, leak, timeout or OOM.
#
#   tests/fuzz/run_fuzzers.sh [SECONDS]      # default 30 seconds per fuzzer
#   tests/fuzz/run_fuzzers.sh --build-only   # configure and build them, run nothing
#
# Environment: AIRLOCK_FUZZ_BUILD_DIR (default <repo>/build-fuzz), AIRLOCK_FUZZ_ARTIFACTS (where
# reproducers are kept; default <build dir>/fuzz-artifacts), AIRLOCK_FUZZ_JOBS (ninja -j),
# AIRLOCK_FUZZ_PARALLEL (fuzzers run at once; default: the number of cores).
set -euo pipefail

build_only=0
if [[ "${1:-}" == --build-only ]]; then
  build_only=1
  shift
fi
duration="${1:-30}"
if ! [[ "$duration" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS]   (a positive whole number, default 30)" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${AIRLOCK_FUZZ_BUILD_DIR:-$root/build-fuzz}"
artifacts="${AIRLOCK_FUZZ_ARTIFACTS:-$build/fuzz-artifacts}"

# Every tests/fuzz/NAME_fuzzer.cpp is a target; its seeds are in corpus/NAME, the inputs that once
# crashed it in regressions/NAME, and its dictionary (optional) is NAME.dict.
fuzzers=()
for source in "$root"/tests/fuzz/*_fuzzer.cpp; do
  base="$(basename "$source" .cpp)"
  fuzzers+=("$base:${base%_fuzzer}:${base%_fuzzer}.dict")
done

# --- toolchain -------------------------------------------------------------------------------
if ! command -v clang++ >/dev/null 2>&1 || ! command -v ninja >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "run_fuzzers: installing clang, libFuzzer runtime and ninja" >&2
    apt-get install -y --no-install-recommends clang libclang-rt-dev ninja-build >&2
  else
    echo "run_fuzzers: needs clang++ (with libclang-rt-dev for libFuzzer) and ninja" >&2
    exit 2
  fi
fi

# --- build -----------------------------------------------------------------------------------
if ! grep -qs '^AIRLOCK_FUZZ:BOOL=ON' "$build/CMakeCache.txt" || [[ ! -f "$build/build.ninja" ]]; then
  echo "run_fuzzers: configuring $build" >&2
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DAIRLOCK_FUZZ=ON -DAIRLOCK_TESTS=OFF >&2
fi
ninja -C "$build" ${AIRLOCK_FUZZ_JOBS:+-j "$AIRLOCK_FUZZ_JOBS"} fuzzers >&2
(( build_only )) && exit 0

# --- run -------------------------------------------------------------------------------------
work="$(mktemp -d -t airlock-fuzz.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# Abort on the first report of any kind; LeakSanitizer runs at exit of each input batch.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One fuzzer: replay its regressions, fuzz for $duration, print one summary line; its reports
# go to stderr, and $work/NAME.failed holds 1 when anything failed.
fuzz_one() {
  local entry=$1 one_failed=0
  IFS=: read -r name corpus dict <<<"$entry"
  binary="$build/tests/fuzz/$name"
  seeds="$root/tests/fuzz/corpus/$corpus"
  log="$work/$name.log"
  mkdir -p "$work/corpus/$name" "$work/artifacts/$name"
  cp -R "$seeds/." "$work/corpus/$name/"     # libFuzzer adds to its corpus: never the repo's copy

  args=(-max_total_time="$duration" -max_len=4096 -rss_limit_mb=2048 -timeout=10
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$name/")
  [[ -n "$dict" && -f "$root/tests/fuzz/$dict" ]] && args+=(-dict="$root/tests/fuzz/$dict")

  # Inputs that once crashed it: replayed one by one first, so a fixed bug stays fixed and an
  # open one fails deterministically (then fuzzing still runs, to find the next one).
  replayed=0
  regressions_failed=()
  for input in "$root/tests/fuzz/regressions/$corpus"/*; do
    [[ -f "$input" ]] || continue
    replayed=$((replayed + 1))
    if ! "$binary" -timeout=10 -rss_limit_mb=2048 "$input" >"$work/$name.replay.log" 2>&1; then
      regressions_failed+=("$input")
      echo "----- $name: regression input fails: $input -----" >&2
      grep -E 'ERROR|SUMMARY|what\(\)|policy_loader_fuzzer:' "$work/$name.replay.log" | head -n 5 >&2 || true
    fi
  done

  status=0
  started=$(date +%s)
  "$binary" "${args[@]}" "$work/corpus/$name" >"$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - started ))
  (( elapsed > 0 )) || elapsed=1

  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n1)"
  new_units="$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n1)"
  last="$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
  units="$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")"

  if (( ${#regressions_failed[@]} )); then
    one_failed=1
    regressions="regressions ${#regressions_failed[@]}/$replayed FAILED"
  else
    regressions="regressions $replayed/$replayed ok"
  fi
  if [[ $status -eq 0 ]]; then
    verdict="ok"
  else
    one_failed=1
    verdict="FAILED (exit $status)"
    rm -rf "${artifacts:?}/$name"            # only this run's reproducers
    mkdir -p "$artifacts/$name"
    cp -R "$work/artifacts/$name/." "$artifacts/$name/" 2>/dev/null || true
    cp "$log" "$artifacts/$name/$name.log"
    echo "----- $name: last 60 lines of its log (full log and reproducers in $artifacts/$name) -----" >&2
    tail -n 60 "$log" >&2
    echo "----- reproduce: $binary $artifacts/$name/<crash-|leak-|timeout-|oom-file> -----" >&2
  fi
  printf '%s: %s, %s — %s execs in %ss (%s/s), cov %s edges, ft %s, corpus %s units (+%s new), peak RSS %s MB\n' \
    "$name" "$verdict" "$regressions" "${execs:-?}" "$elapsed" \
    "$(( ${execs:-0} / elapsed ))" "${cov:-?}" "${ft:-?}" "${units:-?}" "${new_units:-?}" "${rss:-?}"
  echo "$one_failed" >"$work/$name.failed"
}

# As many at a time as there are cores (or $AIRLOCK_FUZZ_PARALLEL): each fuzzer is one process on
# one core, so the whole run takes a fraction of the sum. Each one's output is printed in order.
parallel="${AIRLOCK_FUZZ_PARALLEL:-$(nproc)}"
for entry in "${fuzzers[@]}"; do
  name="${entry%%:*}"
  while (( $(jobs -rp | wc -l) >= parallel )); do wait -n || true; done
  fuzz_one "$entry" >"$work/$name.summary" 2>"$work/$name.stderr" &
done
wait
failed=0
for entry in "${fuzzers[@]}"; do
  name="${entry%%:*}"
  [[ "$(cat "$work/$name.failed" 2>/dev/null)" == 0 ]] || failed=1
  cat "$work/$name.stderr" >&2
  cat "$work/$name.summary"
done
exit "$failed"
