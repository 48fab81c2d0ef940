#!/usr/bin/env bash
# The long stream of docs/benchmarks.md: the continual scenario (20,000 samples) cycled, each
# cycle reordered, until it holds at least LENGTH samples, through the daemon in deterministic
# mode, with the shipped `ttad` preset and the frozen reference side by side (one per core), then
# compared sample by sample over the whole run and over its last LAST samples
# (tools/compare_predictions.py).
#
#   tools/long_stream.sh [OUT] [LENGTH] [LAST]   # defaults: /tmp/ttad-long 1000000 100000
#
# 10^6 samples take hours (docs/benchmarks.md); the predictions files grow as the runs go
# (OUT/{frozen,ttad}.tsv.partial), so `wc -l` shows how far they are. Each run keeps its daemon
# state in OUT/state-<preset> and is started with `ttad eval --resume`: rerunning the script after
# a kill, a reboot or Ctrl-C continues each unfinished run from its newest checkpoint the file
# covers (BLAS_THREADS=2 gives a lone run both cores; predictions are identical either way).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/ttad-long} LENGTH=${2:-1000000} LAST=${3:-100000}
swift build -c release --product ttad >&2
T=.build/release/ttad
mkdir -p "$OUT"
run() {
  local preset=$1
  [[ -s $OUT/$preset.tsv ]] && return
  # The config of a run in progress stays as it was: its state is only valid for it.
  [[ -s $OUT/$preset.toml ]] || tools/preset_config.sh "$preset" | sed "s/^blas_threads = 1$/blas_threads = ${BLAS_THREADS:-1}/" > "$OUT/$preset.toml"
  "$T" eval --config "$OUT/$preset.toml" --state-dir "$OUT/state-$preset" --resume --strict --timeout 300 \
      --scenario continual --per-domain 2000 --long "$LENGTH" --window 10000 \
      --json "$OUT/$preset.json" --predictions-file "$OUT/$preset.tsv" >> "$OUT/$preset.log" 2>&1
}
run frozen & f=$!
run ttad & t=$!
wait $f; wait $t
python3 tools/compare_predictions.py "$OUT/frozen.tsv" "$OUT/ttad.tsv" | tee "$OUT/compare.txt"
python3 tools/compare_predictions.py "$OUT/frozen.tsv" "$OUT/ttad.tsv" --last "$LAST" | tee "$OUT/compare-last.txt"
