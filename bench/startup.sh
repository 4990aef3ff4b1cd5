#!/usr/bin/env bash
# Sandbox start-up cost: how long `airlock run -- /bin/true` takes, beside bare /bin/true and
# bubblewrap, measured side by side (so the ratio survives a noisy machine): BENCH_ROUNDS hyperfine
# runs, each with every row in a rotated order, and each row's samples pooled over the rounds, so
# that a change in the machine's load during the benchmark weighs on every row alike.
#
#   bench/startup.sh [--unprivileged] [--cold] [path/to/airlock]  (default: <repo>/build/airlock)
#
# --unprivileged  also runs the airlock and bwrap rows as uid/gid 65534 (nobody) via setpriv.
# --cold          also measures each wrapper after BENCH_COLD_IDLE seconds idle (default 0.5),
#                 as a user starting one sandbox sees it: back-to-back runs keep kernel state
#                 warm (e.g. a cgroup v1 attach costs an RCU grace period only when cold).
# BENCH_RUNS (default 60), BENCH_COLD_RUNS (20), BENCH_ROUNDS (5) and BENCH_RSS_RUNS (5) change
# the counts (runs are split over the rounds).
# Prints a markdown table on stdout; hyperfine's own output goes to stderr.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${BENCH_RUNS:-60}"
rounds="${BENCH_ROUNDS:-5}"
rss_runs="${BENCH_RSS_RUNS:-5}"
cold_runs="${BENCH_COLD_RUNS:-20}"
cold_idle="${BENCH_COLD_IDLE:-0.5}"
unprivileged=0
cold=0
airlock=""
for argument in "$@"; do
  case "$argument" in
    --unprivileged) unprivileged=1 ;;
    --cold) cold=1 ;;
    -h|--help) sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "startup.sh: unknown option $argument (try --help)" >&2; exit 2 ;;
    *) [[ -z "$airlock" ]] || { echo "startup.sh: one airlock path only" >&2; exit 2; }
       airlock="$argument" ;;
  esac
done
airlock="${airlock:-$root/build/airlock}"
if [[ ! -x "$airlock" ]]; then
  echo "startup.sh: no airlock binary at $airlock; build it first:" >&2
  echo "  cmake -S $root -B $root/build -G Ninja && ninja -C $root/build" >&2
  exit 2
fi
airlock="$(realpath "$airlock")"   # the benchmark runs from a temporary workspace

# --- tools -----------------------------------------------------------------------------------
missing=()
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
if (( ${#missing[@]} )); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "startup.sh: installing ${missing[*]}" >&2
    apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
      { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
  else
    echo "startup.sh: missing ${missing[*]}; install them (apt-get install ${missing[*]})" >&2
    exit 2
  fi
fi
bwrap_path="$(command -v bwrap)"

# --- scratch space ---------------------------------------------------------------------------
tmp="$(mktemp -d -t airlock-bench.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"                      # uid 65534 must reach the binary and the workspace
workspace="$tmp/workspace"             # empty: airlock makes the cwd its writable workspace
mkdir -m 0777 "$workspace"
chmod 0777 "$workspace"                # (mkdir -m is subject to the umask)

# --- the rows: name, then the command (hyperfine -N splits it like a shell, no shell runs) ----
bwrap_args="--unshare-all --die-with-parent --new-session --ro-bind / / --dev /dev --proc /proc"
names=("bare /bin/true" "bwrap" "airlock")
commands=("/bin/true"
          "$(printf '%q' "$bwrap_path") $bwrap_args /bin/true"
          "$(printf '%q' "$airlock") run -- /bin/true")
if (( unprivileged )); then
  # A copy in a 0755 directory: the build tree (e.g. under /root) may be closed to nobody.
  mkdir -m 0755 "$tmp/bin"
  install -m 0755 "$airlock" "$tmp/bin/airlock"
  as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
  names+=("bare /bin/true, uid 65534" "bwrap, uid 65534" "airlock, uid 65534")
  commands+=("$as_nobody /bin/true"
             "$as_nobody $(printf '%q' "$bwrap_path") $bwrap_args /bin/true"
             "$as_nobody $tmp/bin/airlock run -- /bin/true")
fi

cd "$workspace"
# measure KIND RUNS [HYPERFINE OPTIONS...]: `rounds` hyperfine runs into $tmp/KIND-ROUND.json,
# round r starting at row r (mod the row count), RUNS split over the rounds.
measure() {
  local kind=$1 total=$2 round i row
  shift 2
  local per_round=$(( (total + rounds - 1) / rounds ))
  (( per_round >= 2 )) || per_round=2  # hyperfine needs two runs for a deviation
  for (( round = 0; round < rounds; round++ )); do
    local args=(-N --runs "$per_round" "$@" --export-json "$tmp/$kind-$round.json")
    for (( i = 0; i < ${#names[@]}; i++ )); do
      row=$(( (i + round) % ${#names[@]} ))
      args+=(-n "${names[$row]}" "${commands[$row]}")
    done
    hyperfine "${args[@]}" >&2
  done
}
measure warm "$runs" --warmup 3
# `sleep` runs before each timed run, untimed (hyperfine --prepare).
(( cold )) && measure cold "$cold_runs" --prepare "sleep $cold_idle"

# Peak RSS, separately: GNU time's %M is the largest resident set (KiB) of the process or any
# descendant it waited for; the max over a few runs.
peak_rss_mib() {
  local max=0 kib i
  for (( i = 0; i < rss_runs; i++ )); do
    # The command is word-split on purpose, as hyperfine -N does; its paths are %q-quoted.
    eval "/usr/bin/time -f %M -o \"$tmp/rss\" $1" >/dev/null 2>&1
    kib="$(tail -n1 "$tmp/rss")"
    (( kib > max )) && max=$kib
  done
  awk -v k="$max" 'BEGIN { printf "%.1f", k / 1024 }'
}

stats() {  # KIND NAME -> "median mean stddev" in ms over the samples of every round
  jq -r -s --arg name "$2" '
    [.[].results[] | select(.command == $name) | .times[]] | sort | length as $n
    | (add / $n) as $mean
    | (if $n % 2 == 1 then .[($n - 1) / 2] else (.[$n / 2 - 1] + .[$n / 2]) / 2 end) as $median
    | ((map((. - $mean) * (. - $mean)) | add) / ($n - 1) | sqrt) as $sd
    | [$median, $mean, $sd] | map(. * 1000 | tostring) | join(" ")' "$tmp/$1"-*.json |
    awk '{ printf "%.2f %.2f %.2f", $1, $2, $3 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
round_ratios() {  # KIND A B -> "r0 r1 ...": each round's median(A)/median(B), to show the spread
  local round out=()
  for (( round = 0; round < rounds; round++ )); do
    out+=("$(jq -r --arg a "$2" --arg b "$3" '
      ([.results[] | select(.command == $a) | .median][0]) /
      ([.results[] | select(.command == $b) | .median][0]) * 100 | round / 100' \
      "$tmp/$1-$round.json")")
  done
  echo "${out[*]}"
}

kernel="$(uname -r)"
echo
echo "### airlock start-up: running /bin/true"
echo
echo "hyperfine -N, $rounds rounds in rotated order, warm-up 3 each, $(( (runs + rounds - 1) / rounds * rounds )) runs in all;"
echo "peak RSS = max of $rss_runs runs of /usr/bin/time -f %M."
echo "$(nproc) CPUs, kernel $kernel, $(date -u +%Y-%m-%d), airlock $("$airlock" --version 2>/dev/null | awk '{print $NF}')."
echo
echo "| wrapper | median (ms) | mean (ms) | stddev (ms) | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|"
declare -A median cold_median
for i in "${!names[@]}"; do
  read -r med mean sd <<<"$(stats warm "${names[$i]}")"
  median["${names[$i]}"]=$med
  echo "| ${names[$i]} | $med | $mean | $sd | $(peak_rss_mib "${commands[$i]}") |"
done
if (( cold )); then
  for i in "${!names[@]}"; do
    read -r med mean sd <<<"$(stats cold "${names[$i]}")"
    cold_median["${names[$i]}"]=$med
    echo "| ${names[$i]}, cold ($cold_idle s idle before each run) | $med | $mean | $sd | |"
  done
fi
echo
echo "airlock/bwrap median ratio: $(ratio "${median[airlock]}" "${median[bwrap]}") (rounds: $(round_ratios warm airlock bwrap))"
if (( unprivileged )); then
  echo "airlock/bwrap median ratio, uid 65534: $(ratio "${median[airlock, uid 65534]}" "${median[bwrap, uid 65534]}") (rounds: $(round_ratios warm "airlock, uid 65534" "bwrap, uid 65534"))"
fi
if (( cold )); then
  echo "airlock/bwrap median ratio, cold: $(ratio "${cold_median[airlock]}" "${cold_median[bwrap]}") (rounds: $(round_ratios cold airlock bwrap))"
fi
echo
echo "Peers, published, not measured here (mean ms for /bin/true, from PEERS.md):"
echo
echo "| wrapper | mean (ms) |"
echo "|---|---:|"
echo "| bwrap (published, not measured here) | 6.3 |"
echo "| firejail (published, not measured here) | 39.5 |"
echo "| Codex sandbox (published, not measured here) | 49.9 |"
echo "| gVisor runsc (published, not measured here) | 173.7 |"
echo "| Anthropic srt (published, not measured here) | 354.1 |"
