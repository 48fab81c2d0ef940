#!/usr/bin/env bash
# Kill-and-resume check of `ttad eval --resume` on the bundled model (docs/evaluation.md): the
# first LIMIT samples of the long stream straight through, then the same run SIGKILLed after
# KILL_S seconds and resumed, with checkpoints every 15 s; the two predictions files must be
# byte-identical.
#
#   tools/resume_check.sh [OUT] [PRESET] [LIMIT] [KILL_S]   # defaults: /tmp/ttad-resume ttad 3000 47
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/ttad-resume} PRESET=${2:-ttad} LIMIT=${3:-3000} KILL_S=${4:-47}
swift build -c release --product ttad >&2
T=$PWD/.build/release/ttad
rm -rf "$OUT"; mkdir -p "$OUT"
tools/preset_config.sh "$PRESET" | sed 's/^checkpoint_every_s = .*/checkpoint_every_s = 15/' > "$OUT/c.toml"
args=(eval --config "$OUT/c.toml" --strict --timeout 300 --scenario continual --per-domain 2000 --long 1000000 --limit "$LIMIT")
"$T" "${args[@]}" --predictions-file "$OUT/straight.tsv" > "$OUT/straight.log" 2>&1
"$T" "${args[@]}" --state-dir "$OUT/state" --predictions-file "$OUT/resumed.tsv" > "$OUT/killed.log" 2>&1 &
pid=$!
sleep "$KILL_S"
kill -9 "$pid" 2>/dev/null || echo "the run ended before the kill: raise LIMIT or lower KILL_S" >&2
wait "$pid" 2>/dev/null || true
echo "killed with $(($(wc -l < "$OUT/resumed.tsv.partial") - 1)) predictions written"
"$T" "${args[@]}" --state-dir "$OUT/state" --predictions-file "$OUT/resumed.tsv" --resume 2>&1 | tee "$OUT/resumed.log" | grep '^eval: resuming'
cmp "$OUT/straight.tsv" "$OUT/resumed.tsv" && echo "identical: $(($(wc -l < "$OUT/straight.tsv") - 1)) predictions"
