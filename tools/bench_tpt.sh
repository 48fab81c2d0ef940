#!/usr/bin/env bash
# One TPT step in ttad beside the same step in PyTorch (transformers CLIPModel + a CoOp prompt
# learner, tools/bench_tpt_torch.py): 64 views at 224 px, 6 kept, n_ctx 4, one AdamW step, then
# the prediction; same shape and thread count, run alternately per class count (docs/benchmarks.md).
#   tools/bench_tpt.sh [b32|b16] [THREADS] [CLASS COUNTS, default "10 100 1000"]
# PyTorch at C = 1000 needs ~33 GB (the 1000 prompts padded to 77 with autograd through the text
# tower); it is skipped unless TTAD_TPT_TORCH_1000=1. Venv as in tools/bench_clip.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup.sh
SHAPE=${1:-b32}
THREADS=${2:-1}
COUNTS=${3:-10 100 1000}
VENV=${TTAD_BENCH_VENV:-.build/bench-venv}
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" || { echo "bench_tpt: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
  "$VENV/bin/pip" install -q torch==2.13.0+cpu transformers==4.57.6
fi
swift build -c release --product ttad >/dev/null
OUT=.build/bench/tpt-$SHAPE
rm -rf "$OUT"; mkdir -p "$OUT"
for c in $COUNTS; do
  echo "C = $c" >&2
  .build/release/ttad bench-tpt --shape "$SHAPE" --threads "$THREADS" --classes "$c" --reps 2 --json "$OUT/swift_$c.json" >/dev/null
  if [[ $c -lt 1000 || ${TTAD_TPT_TORCH_1000:-0} == 1 ]]; then
    OMP_NUM_THREADS=$THREADS "$VENV/bin/python" tools/bench_tpt_torch.py --shape "$SHAPE" --threads "$THREADS" \
      --classes "$c" --reps 2 --json "$OUT/torch_$c.json" >/dev/null
  fi
done
python3 - "$OUT" $COUNTS <<'PY'
import json, os, sys
out, counts = sys.argv[1], sys.argv[2:]
print("\n| classes | ttad s/step | ttad peak RSS | PyTorch s/step | PyTorch peak RSS | speed-up |\n|---|---|---|---|---|---|")
for c in counts:
    s = json.load(open(os.path.join(out, f"swift_{c}.json")))[0]
    tp = os.path.join(out, f"torch_{c}.json")
    t = json.load(open(tp)) if os.path.exists(tp) else None
    tcol = f"{t['step_s']:.2f} | {t['peak_rss_mib']:.0f} MiB | **{t['step_s'] / s['step_s']:.1f}x**" if t else "not run | | "
    print(f"| {c} | {s['step_s']:.2f} | {s['peak_rss_mib']:.0f} MiB | {tcol} |")
PY
