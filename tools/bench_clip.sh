#!/usr/bin/env bash
# ttad's CLIP forward beside transformers' CLIPModel on torch CPU: same shape, same thread count,
# same machine, run alternately (docs/benchmarks.md). Random weights, so nothing is downloaded.
#   tools/bench_clip.sh [b32|b16] [THREADS] [ROUNDS] [--skip-text]
# Shared VMs drift by tens of percent within minutes, so the image measurements run ROUNDS times
# (default 3) alternating ttad and torch, and the report gives each round's ratio and the median.
# The text measurement (1000 class prompts) runs once per side. The torch side runs in a venv
# (default .build/bench-venv, override with TTAD_BENCH_VENV) created on first use with
# `pip install torch==2.13.0+cpu transformers==4.57.6`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup.sh
SHAPE=${1:-b32}
THREADS=${2:-1}
ROUNDS=${3:-3}
SKIP_TEXT=${4:-}
VENV=${TTAD_BENCH_VENV:-.build/bench-venv}
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" || { echo "bench_clip: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
  "$VENV/bin/pip" install -q torch==2.13.0+cpu transformers==4.57.6
fi
swift build -c release --product ttad >/dev/null
OUT=.build/bench/$SHAPE
rm -rf "$OUT"; mkdir -p "$OUT"
torch_bench() { OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS "$VENV/bin/python" tools/bench_clip_torch.py "$@" >/dev/null; }
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS: images" >&2
  .build/release/ttad bench-clip --shape "$SHAPE" --threads "$THREADS" --skip-text --min-seconds 2 --json "$OUT/swift_img_$r.json" >/dev/null
  torch_bench --shape "$SHAPE" --threads "$THREADS" --skip-text --min-seconds 2 --json "$OUT/torch_img_$r.json"
done
if [[ $SKIP_TEXT != --skip-text ]]; then
  echo "text: 1000 prompts" >&2
  .build/release/ttad bench-clip --shape "$SHAPE" --threads "$THREADS" --min-seconds 1 --json "$OUT/swift_text.json" >/dev/null
  torch_bench --shape "$SHAPE" --threads "$THREADS" --min-seconds 1 --json "$OUT/torch_text.json"
fi
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
load = lambda name: json.load(open(os.path.join(out, name)))
sw = [load(f"swift_img_{r}.json") for r in range(1, rounds + 1)]
th = [load(f"torch_img_{r}.json") for r in range(1, rounds + 1)]
s0 = sw[0]
print(f"\n{s0['shape']}, {s0['threads']} thread(s); ttad on OpenBLAS {s0['openblas_core']}, torch {th[0]['torch']}; {rounds} alternating rounds\n")
print("| measure | ttad per round | transformers per round | ratio per round | median ratio |\n|---|---|---|---|---|")
for key, name in [("image_b1_per_s", "images/s, batch 1"), ("image_b8_per_s", "images/s, batch 8")]:
    a, b = [x[key] for x in sw], [x[key] for x in th]
    ratios = [x / y for x, y in zip(a, b)]
    f = lambda v: ", ".join(f"{x:.2f}" for x in v)
    print(f"| {name} | {f(a)} | {f(b)} | {f(ratios)} | **{statistics.median(ratios):.2f}x** |")
for x in sw:
    print(f"ttad round: batch 1 {x['image_b1_gflops']:.1f} GFLOP/s = {100*x['image_b1_gflops']/x['sgemm_b1_gflops']:.0f}% of sgemm at the same products "
          f"({x['sgemm_b1_gflops']:.1f}), {100*x['image_b1_gflops']/x['sgemm_peak_gflops']:.0f}% of the sgemm peak ({x['sgemm_peak_gflops']:.1f}); "
          f"batch 8 {x['image_b8_gflops']:.1f} = {100*x['image_b8_gflops']/x['sgemm_b8_gflops']:.0f}% / {100*x['image_b8_gflops']/x['sgemm_peak_gflops']:.0f}%")
if os.path.exists(os.path.join(out, "swift_text.json")):
    s, t = load("swift_text.json"), load("torch_text.json")
    print(f"\ntext, 1000 prompts (mean {s['text_mean_tokens']:.1f} tokens): ttad {s['text_eot_per_s']:.1f} prompts/s at the end token "
          f"({s['text_padded77_per_s']:.1f} when made to run the padding); transformers {t['text_padded77_per_s']:.1f} padded to 77 "
          f"-> **{s['text_eot_per_s']/t['text_padded77_per_s']:.1f}x**; transformers padded to each batch's longest {t['text_longest_per_s']:.1f} "
          f"-> {s['text_eot_per_s']/t['text_longest_per_s']:.2f}x")
    print(f"peak RSS: ttad {s['peak_rss_mib']:.0f} MiB, torch {t['peak_rss_mib']:.0f} MiB")
PY
