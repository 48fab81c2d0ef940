#!/usr/bin/env bash
# Every adaptation preset on the composed scenarios of `ttad stream`, through the real daemon in
# deterministic mode (`ttad eval --config`), each compared sample by sample with the frozen model
# (tools/compare_predictions.py). Writes per run: JSON report, predictions TSV, log, comparison;
# and OUT/presets.md, the table of docs/benchmarks.md ("Adaptation"). Runs already in OUT are
# kept; two copies side by side share the work (one per core), as tools/frozen_baselines.sh.
#
#   tools/preset_runs.sh [OUT]                 # default OUT=/tmp/ttad-presets
#   PRESETS="frozen ttad" tools/preset_runs.sh  # which presets (frozen is always run: the reference)
#   EXTRA='learning_rate = 0.003' tools/preset_runs.sh OUT   # extra [adaptation] keys for every preset
#   EMBEDDINGS=1 PRESETS="tda dota" tools/preset_runs.sh OUT   # embedding mode: the client embeds each
#                                              # image with the bundled model (`--as-embeddings`), the
#                                              # daemon classifies f32-embedding samples
#   TTAD_BIN=.build-release/release/ttad tools/preset_runs.sh OUT   # use this binary, do not build
#   SCENARIO_NAMES="clean continual" tools/preset_runs.sh OUT       # only these scenarios
#   SMALL=1 tools/preset_runs.sh OUT           # a tenth of each stream (200 per domain, 2,000 clean):
#                                              # for the view-based presets (tpt, dynaprompt, stamp),
#                                              # 16-64 forwards per sample
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/ttad-presets}
PRESETS=${PRESETS:-frozen ttad}
# TTAD=path/to/ttad (or TTAD_BIN=) uses that binary instead of building one.
TTAD=${TTAD:-${TTAD_BIN:-}}
if [[ -n $TTAD ]]; then
  T=$TTAD
else
  swift build -c release --product ttad >&2
  T=.build/release/ttad
fi
EMB=()
[[ -n ${EMBEDDINGS:-} ]] && EMB=(--as-embeddings "$PWD/deploy/models/fmnist-clip")
mkdir -p "$OUT"

# One config per preset: the shipped default with the preset set (paths made absolute).
for p in frozen $PRESETS; do
  tools/preset_config.sh "$p" "${EXTRA:-}" > "$OUT/$p.toml"
done

run() {
  local preset=$1 name=$2; shift 2
  local base="$OUT/$preset-$name"
  if [[ -s $base.json ]] || ! mkdir "$base.lock" 2>/dev/null; then return; fi
  echo "== $preset $name: $*" >&2
  if "$T" eval --config "$OUT/$preset.toml" --strict --timeout 120 --json "$base.json.tmp" --predictions-file "$base.tsv" \
      --title "$preset: $name" "${EMB[@]}" "$@" > "$base.log" 2>&1; then
    mv "$base.json.tmp" "$base.json"
    tail -2 "$base.log" >&2
  else
    echo "$preset $name failed: see $base.log" >&2
  fi
  rmdir "$base.lock"
}

if [[ -n ${SMALL:-} ]]; then
  SCENARIOS=(
    "continual|--scenario continual --per-domain 200"
    "label-correlated|--scenario continual --per-domain 200 --gamma 0.1"
    "outliers|--scenario continual --per-domain 200 --outliers 0.1"
    "clean|--scenario clean --limit 2000"
    "gradual|--scenario gradual --per-domain 20 --severity-in-id"
  )
else
  SCENARIOS=(
    "clean|--scenario clean"
    "continual|--scenario continual --per-domain 2000"
    "gradual|--scenario gradual --per-domain 200 --severity-in-id"
    "label-correlated|--scenario continual --per-domain 2000 --gamma 0.1"
    "outliers|--scenario continual --per-domain 2000 --outliers 0.1"
  )
fi
if [[ -n ${SCENARIO_NAMES:-} ]]; then
  keep=()
  for s in "${SCENARIOS[@]}"; do [[ " $SCENARIO_NAMES " == *" ${s%%|*} "* ]] && keep+=("$s"); done
  SCENARIOS=("${keep[@]}")
fi
for p in frozen $PRESETS; do
  for s in "${SCENARIOS[@]}"; do
    # shellcheck disable=SC2086
    run "$p" "${s%%|*}" ${s#*|}
  done
done
while compgen -G "$OUT/*.lock" > /dev/null; do sleep 5; done

for p in $PRESETS; do
  [[ $p == frozen ]] && continue
  for s in "${SCENARIOS[@]}"; do
    n=${s%%|*}
    if [[ -s $OUT/frozen-$n.tsv && -s $OUT/$p-$n.tsv ]]; then
      python3 tools/compare_predictions.py "$OUT/frozen-$n.tsv" "$OUT/$p-$n.tsv" --json "$OUT/$p-$n.compare.json" \
        > "$OUT/$p-$n.compare.txt"
    fi
  done
done
python3 tools/summarize_presets.py "$OUT" $PRESETS > "$OUT/presets.md"
echo "table: $OUT/presets.md" >&2
