#!/usr/bin/env bash
# The camera-group scenario (`--scenario cameras`: five interleaved streams, docs/benchmarks.md
# "State per stream") through the real daemon in deterministic mode: frozen, then a preset with
# one global state and with one state per stream, each compared sample by sample with frozen per
# camera (tools/compare_predictions.py), and stream scope against global scope directly.
#
#   tools/cameras_runs.sh [OUT] [PER_DOMAIN]    # defaults /tmp/ttad-cameras, 2000 per domain
#   PRESET=tda tools/cameras_runs.sh OUT        # another preset (default ttad)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/ttad-cameras}
PER=${2:-2000}
PRESET=${PRESET:-ttad}
swift build -c release --scratch-path .build-release --product ttad >&2
T=.build-release/release/ttad
mkdir -p "$OUT"
tools/preset_config.sh frozen > "$OUT/frozen.toml"
tools/preset_config.sh "$PRESET" 'scope = "global"' > "$OUT/$PRESET-global.toml"
tools/preset_config.sh "$PRESET" 'scope = "stream"' > "$OUT/$PRESET-stream.toml"
for run in frozen "$PRESET-global" "$PRESET-stream"; do
  [[ -s $OUT/$run.tsv ]] && continue
  echo "== $run" >&2
  "$T" eval --config "$OUT/$run.toml" --strict --timeout 120 --scenario cameras --per-domain "$PER" \
    --json "$OUT/$run.json" --predictions-file "$OUT/$run.tsv" --title "$run: cameras" > "$OUT/$run.log" 2>&1
  tail -7 "$OUT/$run.log" >&2
done
for run in "$PRESET-global" "$PRESET-stream"; do
  echo "== $run vs frozen"
  python3 tools/compare_predictions.py "$OUT/frozen.tsv" "$OUT/$run.tsv" --json "$OUT/$run-vs-frozen.json"
done
echo "== $PRESET-stream vs $PRESET-global"
python3 tools/compare_predictions.py "$OUT/$PRESET-global.tsv" "$OUT/$PRESET-stream.tsv" --json "$OUT/stream-vs-global.json"
