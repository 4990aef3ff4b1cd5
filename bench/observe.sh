#!/usr/bin/env bash
# What recording costs: `npm install` of a package from the local registry (tests/observe's
# world) under `airlock run` with an allowlist, beside the same under `airlock observe --forward
# -o suggested.yaml` (every connection recorded, the summary printed, the suggestion written).
# Target: observe --forward within 1.10x the run's time. As root.
#
#   bench/observe.sh [path/to/airlock]   (default: <repo>/build/airlock)
#
# BENCH_ROUNDS (3) rounds, each a hyperfine run of both commands (BENCH_RUNS, 10, runs each,
# 2 warm-up runs) in rotated order; samples are pooled. npm's cache is in the sandbox's private
# $HOME (a fresh tmpfs every run) and node_modules is removed before every run (--prepare), so
# every run fetches the package document and the tarball. Prints a markdown table on stdout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
airlock="$(realpath "${1:-$root/build/airlock}")"
rounds="${BENCH_ROUNDS:-3}"
runs="${BENCH_RUNS:-10}"
world="$root/tests/observe/world.sh"
bypass_state="${AIRLOCK_BYPASS_STATE:-/tmp/airlock-bypass-world}"
[[ -x "$airlock" ]] || { echo "observe.sh: no airlock binary at $airlock" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "observe.sh: run as root (the world is a network namespace)" >&2; exit 2; }
command -v hyperfine > /dev/null || { echo "observe.sh: needs hyperfine" >&2; exit 2; }

work="$(mktemp -d /tmp/airlock-bench-observe.XXXXXX)"
world_owned=0
cleanup() {
  cd /
  rm -rf "$work"
  if (( world_owned )); then "$world" stop; fi
}
trap cleanup EXIT
if ! "$world" status; then
  "$world" start || { echo "observe.sh: cannot start tests/observe/world.sh" >&2; exit 1; }
  world_owned=1
fi

mkdir -p "$work/workspace/project" "$work/home"
cp "$bypass_state/ca.crt" "$work/workspace/"
printf '{"name":"bench","version":"1.0.0","private":true}\n' > "$work/workspace/project/package.json"
cat > "$work/workspace/npm.sh" << 'EOF_'
cd project && exec npm install --registry https://registry.example.test/ --cafile ../ca.crt \
  --no-audit --no-fund --no-update-notifier --fetch-retries=0 tiny-pkg@1.0.0 > /dev/null 2>&1
EOF_
cat > "$work/allow.yaml" << 'EOF_'
version: 1
name: bench-run
network:
  mode: allowlist
  allow: [registry.example.test:443]
  dns_upstream: 127.0.0.1:5353
EOF_
cat > "$work/base.yaml" << 'EOF_'
version: 1
name: bench-observe
network:
  dns_upstream: 127.0.0.1:5353
EOF_
environment=(env -i PATH=/usr/bin:/bin HOME="$work/home" LANG=C.UTF-8)
# one script per row, so hyperfine runs them without a shell (-N)
printf '#!/bin/sh\nexec %s %q run --policy %q -- sh npm.sh\n' "${environment[*]}" "$airlock" \
  "$work/allow.yaml" > "$work/run-row"
printf '#!/bin/sh\nexec %s %q observe --forward --policy %q -o %q -- sh npm.sh 2> /dev/null\n' \
  "${environment[*]}" "$airlock" "$work/base.yaml" "$work/suggested.yaml" > "$work/observe-row"
chmod +x "$work/run-row" "$work/observe-row"
prepare="rm -rf $work/workspace/project/node_modules $work/workspace/project/package-lock.json"

cd "$work/workspace"
# A benchmark of a failing command measures nothing: each row must install the package once.
for row in run-row observe-row; do
  eval "$prepare"
  "$work/$row" > /dev/null 2>&1 || { echo "observe.sh: $row failed; see: $(cat "$work/$row")" >&2; exit 1; }
  [[ -f project/node_modules/tiny-pkg/package.json ]] || { echo "observe.sh: $row installed nothing" >&2; exit 1; }
done
grep -q 'registry.example.test:443' "$work/suggested.yaml" ||
  { echo "observe.sh: observe's suggestion lacks registry.example.test:443" >&2; exit 1; }

names=("airlock run (allowlist)" "airlock observe --forward")
rows=("$work/run-row" "$work/observe-row")
for ((round = 0; round < rounds; round++)); do
  first=$((round % 2)) second=$(((round + 1) % 2))
  echo "observe.sh: round $((round + 1))/$rounds" >&2
  hyperfine -N --style none --warmup 2 --runs "$runs" --prepare "$prepare" \
    --export-json "$work/round-$round.json" \
    -n "${names[$first]}" "${rows[$first]}" -n "${names[$second]}" "${rows[$second]}" > /dev/null
done

/usr/bin/python3 - "$work" "$rounds" << 'EOF_'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
samples, per_round = {}, []
for r in range(rounds):
    results = json.load(open(f"{work}/round-{r}.json"))["results"]
    medians = {}
    for result in results:
        samples.setdefault(result["command"], []).extend(result["times"])
        medians[result["command"]] = statistics.median(result["times"])
    per_round.append(medians["airlock observe --forward"] / medians["airlock run (allowlist)"])
print("| npm install (local registry) | median ms | mean ms | stddev ms | runs |")
print("|---|---:|---:|---:|---:|")
for name in ("airlock run (allowlist)", "airlock observe --forward"):
    times = samples[name]
    print(f"| {name} | {statistics.median(times) * 1000:.1f} | {statistics.mean(times) * 1000:.1f} "
          f"| {statistics.stdev(times) * 1000:.1f} | {len(times)} |")
ratio = statistics.median(samples["airlock observe --forward"]) / statistics.median(samples["airlock run (allowlist)"])
print()
print(f"observe --forward / run: {ratio:.3f}x (target <= 1.10x); per round: "
      f"[{', '.join(f'{r:.3f}' for r in per_round)}]")
EOF_
