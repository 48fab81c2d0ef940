#!/usr/bin/env bash
# The frozen model on every scenario of `ttad stream`, through the real daemon: each run is
# `ttad eval --config` (the daemon in process, deterministic mode, lossless ZeroMQ ingest).
# Writes one JSON/markdown/SVG report per run into OUT and the tables of docs/benchmarks.md
# ("Frozen baselines") into OUT/baselines.md. Runs already in OUT are kept (rerun = resume), and
# two copies started side by side share the work (each run is claimed with a lock directory):
# one per core halves the wall time.
#
#   tools/frozen_baselines.sh [OUT]          # default OUT=/tmp/ttad-baselines
#   LONG=1 tools/frozen_baselines.sh         # also the 10^6-sample long stream (about 75 min)
#   CONFIG=my.toml tools/frozen_baselines.sh # another daemon configuration (default: deploy/ttad.toml, preset frozen)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/ttad-baselines}
swift build -c release --product ttad >&2
T=.build/release/ttad
mkdir -p "$OUT"
if [[ -z ${CONFIG:-} ]]; then
  # The shipped default with adaptation off (paths made absolute).
  CONFIG=$OUT/frozen.toml
  tools/preset_config.sh frozen > "$CONFIG"
fi

run() {
  local name=$1; shift
  if [[ -s $OUT/$name.json ]] || ! mkdir "$OUT/$name.lock" 2>/dev/null; then return; fi
  echo "== $name: $*" >&2
  if "$T" eval --config "$CONFIG" --strict --json "$OUT/$name.json.tmp" --markdown "$OUT/$name.md" \
      --svg "$OUT/$name.svg" --title "frozen: $name" "$@" > "$OUT/$name.log" 2>&1; then
    mv "$OUT/$name.json.tmp" "$OUT/$name.json"
    tail -1 "$OUT/$name.log" >&2
  else
    echo "$name failed: see $OUT/$name.log" >&2
  fi
  rmdir "$OUT/$name.lock"
}

run clean --scenario clean
# Damage profile: every corruption at every severity; severity 5 on all 8,000 known-class test
# images, severities 1-4 on 1,000 each (standard error about 1.2 points).
for c in gaussian_noise shot_noise impulse_noise defocus_blur motion_blur contrast brightness pixelate jpeg_compression fog; do
  for s in 1 2 3 4 5; do
    if [[ $s == 5 ]]; then run "single-$c-$s" --scenario "single:$c:$s"
    else run "single-$c-$s" --scenario "single:$c:$s" --per-domain 1000; fi
  done
done
# The composed scenarios, 2,000 samples per domain (200 per step for gradual's 90 steps).
run continual --scenario continual --per-domain 2000
run gradual --scenario gradual --per-domain 200 --severity-in-id
run label-correlated --scenario continual --per-domain 2000 --gamma 0.1
run outliers --scenario continual --per-domain 2000 --outliers 0.1
if [[ ${LONG:-0} == 1 ]]; then run long --scenario continual --long 1000000 --window 10000; fi
wait_for_locks() { while compgen -G "$OUT/*.lock" > /dev/null; do sleep 5; done; }
wait_for_locks
python3 tools/summarize_baselines.py "$OUT" > "$OUT/baselines.md"
echo "tables: $OUT/baselines.md" >&2
