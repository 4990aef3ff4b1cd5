#!/usr/bin/env bash
# The cost of one command in an orchestrator's loop: `airlock exec NAME -- /bin/true` into a
# session that is already up, beside `airlock run -- /bin/true` (a sandbox built per command),
# bubblewrap and bare /bin/true. BENCH_ROUNDS hyperfine runs, each with every row in a rotated
# order, samples pooled over the rounds (as bench/startup.sh does), so a change in the machine's
# load weighs on every row alike. Target (issue 11): exec's median <= 0.3x bwrap's. A last row
# times the same request from a process that speaks the control socket itself (no client
# process per command), as an orchestrator can (docs/control.md).
#
#   bench/exec.sh [path/to/airlock]  (default: <repo>/build/airlock)
#
# BENCH_RUNS (default 100) and BENCH_ROUNDS (5) change the counts. Prints a markdown table on
# stdout; hyperfine's own output goes to stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${BENCH_RUNS:-100}"
rounds="${BENCH_ROUNDS:-5}"
airlock="${1:-$root/build/airlock}"
case "$airlock" in -h | --help) sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;; esac
if [[ ! -x "$airlock" ]]; then
  echo "exec.sh: no airlock binary at $airlock; build it first (scripts/build.sh)" >&2
  exit 2
fi
airlock="$(realpath "$airlock")"
for tool in hyperfine bwrap jq; do
  command -v "$tool" > /dev/null 2>&1 ||
    { echo "exec.sh: missing $tool (apt-get install ${tool/bwrap/bubblewrap})" >&2; exit 2; }
done
bwrap_path="$(command -v bwrap)"

tmp="$(mktemp -d -t airlock-bench-exec.XXXXXX)"
session="bench-exec-$$"
cleanup() {
  "$airlock" session stop --grace 1s "$session" > /dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/workspace"
cd "$tmp/workspace"
"$airlock" session start --name "$session" > /dev/null

bwrap_args="--unshare-all --die-with-parent --new-session --ro-bind / / --dev /dev --proc /proc"
names=("bare /bin/true" "bwrap" "airlock run" "airlock exec")
commands=("/bin/true"
          "$(printf '%q' "$bwrap_path") $bwrap_args /bin/true"
          "$(printf '%q' "$airlock") run -- /bin/true"
          "$(printf '%q' "$airlock") exec $session -- /bin/true")

per_round=$(( (runs + rounds - 1) / rounds ))
(( per_round >= 2 )) || per_round=2
for (( round = 0; round < rounds; round++ )); do
  args=(-N --warmup 3 --runs "$per_round" --export-json "$tmp/round-$round.json")
  for (( i = 0; i < ${#names[@]}; i++ )); do
    row=$(( (i + round) % ${#names[@]} ))
    args+=(-n "${names[$row]}" "${commands[$row]}")
  done
  hyperfine "${args[@]}" >&2
done

median_ms() {  # NAME -> the median in ms over every round's samples
  jq -s -r --arg name "$1" '[.[].results[] | select(.command == $name) | .times[]] | sort
    | length as $n
    | (if $n % 2 == 1 then .[($n - 1) / 2] else (.[$n / 2 - 1] + .[$n / 2]) / 2 end) * 1000' \
    "$tmp"/round-*.json
}
declare -A median
for name in "${names[@]}"; do median[$name]=$(median_ms "$name"); done

# An orchestrator that speaks the control socket itself starts no client process per command:
# the same request, timed from a process that stays (bench/exec_protocol.py).
if [[ $(id -u) == 0 ]]; then
  control_dir=/run/airlock
elif [[ -n "${XDG_RUNTIME_DIR:-}" ]]; then
  control_dir="$XDG_RUNTIME_DIR/airlock"
elif [[ -d "/run/user/$(id -u)" ]]; then
  control_dir="/run/user/$(id -u)/airlock"
else
  control_dir="/tmp/airlock-$(id -u)"
fi
median["exec over the control socket"]=$(python3 "$root/bench/exec_protocol.py" \
  "$control_dir/$session.sock" "$runs")
names+=("exec over the control socket")

echo "| command | median (ms) | vs bwrap |"
echo "|---|---:|---:|"
for name in "${names[@]}"; do
  awk -v n="$name" -v m="${median[$name]}" -v b="${median[bwrap]}" \
    'BEGIN { printf "| %s | %.2f | %.2fx |\n", n, m, m / b }'
done
echo
awk -v e="${median[airlock exec]}" -v b="${median[bwrap]}" \
  'BEGIN { printf "airlock exec / bwrap median ratio: %.2f (target <= 0.30)\n", e / b }'
awk -v e="${median[exec over the control socket]}" -v b="${median[bwrap]}" \
  'BEGIN { printf "control-socket exec / bwrap median ratio: %.2f\n", e / b }'
